"""How sure is a ranking? Resampling the evaluation images, from per-image scores alone.

A method's score is the mean of per-image scores s_i (FAIG: A_blur − A_noise of image i), so a
ranking from any multiset of the images costs no network pass:

* :func:`bootstrap_jaccard` — top-p% Jaccard between the rankings of two independent bootstrap
  resamples of the n images (how reproducible is the set if another n images had been drawn);
* :func:`agreement_by_images` — top-p% Jaccard between the ranking of m randomly chosen images and
  the ranking of all n, for m = 1 … n ("how many images do I need?").
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .filters import jaccard, top_set

__all__ = ["bootstrap_jaccard", "agreement_by_images", "summarise"]


def bootstrap_jaccard(per_image: np.ndarray, percent: float = 1.0, n_boot: int = 500, seed: int = 0) -> np.ndarray:
    """Top-p% Jaccard between rankings of two independent bootstrap resamples, ``n_boot`` times."""
    per_image = np.asarray(per_image, dtype=np.float64)
    n, n_filters = per_image.shape
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):
        i, j = rng.integers(0, n, n), rng.integers(0, n, n)
        out[b] = jaccard(top_set(per_image[i].mean(0), percent), top_set(per_image[j].mean(0), percent))
    return out


def agreement_by_images(per_image: np.ndarray, percent: float = 1.0, sizes: Sequence[int] | None = None,
                        n_draws: int = 50, seed: int = 0) -> pd.DataFrame:
    """For each subset size m: top-p% Jaccard of the ranking from m images (drawn without replacement,
    ``n_draws`` times) with the ranking from all n. Columns: images, mean, q05, q95."""
    per_image = np.asarray(per_image, dtype=np.float64)
    n, n_filters = per_image.shape
    full = top_set(per_image.mean(0), percent)
    rng = np.random.default_rng(seed)
    rows = []
    for m in sizes or range(1, n + 1):
        js = [jaccard(top_set(per_image[rng.choice(n, m, replace=False)].mean(0), percent), full)
              for _ in range(n_draws if m < n else 1)]
        rows.append(dict(images=m, **summarise(np.array(js))))
    return pd.DataFrame(rows)


def summarise(values: np.ndarray) -> dict[str, float]:
    """Mean and 90% interval (5th and 95th percentiles)."""
    return dict(mean=float(np.mean(values)), q05=float(np.quantile(values, 0.05)), q95=float(np.quantile(values, 0.95)))
