"""Where discovered filters live (paper Fig. 6): positions, per-layer shares and a depth test.

Normalised depth of a filter in layer ℓ of L conv layers: d = ℓ / (L − 1) ∈ [0, 1] (0 = first conv,
1 = last). Position within a layer: local index / (filters in the layer), so layers of different
sizes share one [0, 1) axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .filters import FilterIndex

__all__ = ["positions", "layer_shares", "DepthTest", "depth_test"]


def positions(fi: FilterIndex, index: np.ndarray) -> pd.DataFrame:
    """One row per filter: layer position, layer name, normalised depth and in-layer position."""
    layer, o, i = fi.locate(np.asarray(index))
    local = np.asarray(index) - fi.offsets[layer]
    return pd.DataFrame({"layer": layer, "name": np.array(fi.names)[layer],
                         "depth": layer / max(1, len(fi.names) - 1),
                         "position": local / fi.counts[layer], "out": o, "in": i})


def layer_shares(fi: FilterIndex, sets: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per layer and set: % of the set in the layer; 'all filters' gives the share a random set would have."""
    rows = []
    for name, idx in {**sets, "all filters": np.arange(len(fi))}.items():
        counts = np.bincount(fi.locate(np.asarray(idx))[0], minlength=len(fi.names))
        for l, c in enumerate(counts):
            rows.append(dict(set=name, layer=l, name=fi.names[l], share=100 * c / max(1, len(idx))))
    return pd.DataFrame(rows)


@dataclass
class DepthTest:
    """Mean normalised depth of the blur and noise sets, and permutation p-values."""

    blur_depth: float
    noise_depth: float
    random_depth: float  # expectation for a uniformly random set of filters
    p_blur_deeper_than_random: float  # one-sided, random sets of the same size
    p_blur_deeper_than_noise: float  # one-sided, labels shuffled between the two sets
    blur_spread: float  # std of depth (how evenly a set spreads over the network)
    noise_spread: float
    n_permutations: int


def depth_test(fi: FilterIndex, blur: np.ndarray, noise: np.ndarray, n_permutations: int = 10_000,
               seed: int = 0) -> DepthTest:
    """Test 'deblurring filters sit more in the back of the network' against random sets."""
    rng = np.random.default_rng(seed)
    depth_all = positions(fi, np.arange(len(fi))).depth.to_numpy()
    db, dn = depth_all[np.asarray(blur)], depth_all[np.asarray(noise)]
    k = len(db)
    rand = np.array([depth_all[rng.choice(len(fi), k, replace=False)].mean() for _ in range(n_permutations)])
    pooled = np.concatenate([db, dn])
    diffs = np.empty(n_permutations)
    for j in range(n_permutations):
        perm = rng.permutation(len(pooled))
        diffs[j] = pooled[perm[:k]].mean() - pooled[perm[k:]].mean()
    obs = db.mean() - dn.mean()
    return DepthTest(float(db.mean()), float(dn.mean()), float(depth_all.mean()),
                     float((1 + (rand >= db.mean()).sum()) / (1 + n_permutations)),
                     float((1 + (diffs >= obs).sum()) / (1 + n_permutations)),
                     float(db.std()), float(dn.std()), n_permutations)
