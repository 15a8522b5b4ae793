"""How sure is a ranking: bootstrap resampling and agreement by the number of images."""
import numpy as np

from faig_helpers.confidence import agreement_by_images, bootstrap_jaccard
from faig_helpers.filters import jaccard, top_set


def test_bootstrap_and_image_agreement():
    rng = np.random.default_rng(0)
    signal = np.zeros(1000)
    signal[:10] = 5.0  # ten filters stand out in every image
    same = signal + rng.normal(0, 0.1, (6, 1000))
    assert np.all(bootstrap_jaccard(same, 1.0, 50) == 1.0)
    noise = rng.normal(0, 1, (6, 1000))  # nothing stands out: resamples disagree
    assert bootstrap_jaccard(noise, 1.0, 50).mean() < 0.5
    df = agreement_by_images(noise, 1.0, n_draws=20)
    assert df.images.tolist() == list(range(1, 7)) and df["mean"].iloc[-1] == 1.0
    assert df["mean"].iloc[0] < df["mean"].iloc[-2] < 1.0
    assert jaccard(top_set(np.arange(10.0), 30), np.array([7, 8, 9])) == 1.0  # top 30% of 10 = 3 filters
    assert jaccard([], []) == 1.0 and len(top_set(np.arange(10.0), 0)) == 0 and len(top_set(np.arange(10.0), 1)) == 1
