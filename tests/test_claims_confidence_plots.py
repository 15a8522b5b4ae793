import numpy as np
import torch

from faig_helpers.claims import Claims, fmt
from faig_helpers.confidence import agreement_by_images, bootstrap_jaccard
from faig_helpers.filters import jaccard, top_set
from faig_helpers.filters import FilterIndex
from faig_helpers.viz.layers import layer_ticks


def test_claims_report_and_never_raise():
    c = Claims("net")
    assert c.add("holds", True, "1.0") and not c.add("fails", False, "0.1", "why it failed")
    text = c.text()
    assert text.splitlines()[0].startswith("✓ net") and "✗ net  fails" in text and "→ why it failed" in text
    assert text.endswith("1 of 2 claims hold") and not c.all_hold
    assert list(c.table().holds) == ["✓", "✗"] and c.table().reading.tolist() == ["", "why it failed"]
    assert fmt(0.123456) == "0.123" and fmt(12345.6) == "12346"


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


def test_layer_ticks_stay_readable_on_deep_nets():
    small = FilterIndex.from_state_dict({f"features.{2 * i}.weight": torch.zeros(2, 2, 3, 3) for i in range(6)})
    assert layer_ticks(small)[1] == [f"f{2 * i}" for i in range(6)]
    sd = {"conv_first.weight": torch.zeros(4, 3, 3, 3)}
    for b in range(16):
        sd[f"body.{b}.conv1.weight"] = sd[f"body.{b}.conv2.weight"] = torch.zeros(4, 4, 3, 3)
    sd.update({k: torch.zeros(4, 4, 3, 3) for k in ("upconv1.weight", "upconv2.weight", "conv_hr.weight")})
    sd["conv_last.weight"] = torch.zeros(3, 4, 3, 3)
    pos, labels = layer_ticks(FilterIndex.from_state_dict(sd))
    assert len(labels) <= 18 and labels[0] == "conv_first" and labels[-1] == "conv_last"
    assert pos == sorted(pos) and pos[-1] == 36
    plain = FilterIndex.from_state_dict({f"features.{i}.weight": torch.zeros(2, 2, 3, 3) for i in range(40)})
    pos, labels = layer_ticks(plain)
    assert len(labels) <= 18 and pos[0] == 0 and pos[-1] == 39
