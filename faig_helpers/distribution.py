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

__all__ = ["positions", "layer_shares", "region_shares", "unet_region", "DepthTest", "depth_test"]


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


def unet_region(name: str) -> str:
    """The part of Real-CUGAN's two U-Nets (spandrel's ``UpCunet2x/3x/4x`` names) a weight belongs to: 'U-Net 1 |
    encoder', '… | bottleneck' or '… | decoder' (an SE block with its conv block), 'output' for ×4's
    ``conv_final``; any other network's weights by their top-level module ('body', 'conv_first', …)."""
    parts = name.split(".")
    if parts[0] not in ("unet1", "unet2"):
        return "output" if parts[0] == "conv_final" else parts[0]
    block = parts[1]
    deepest = "conv2" if parts[0] == "unet1" else "conv3"  # the block at the lowest resolution
    level = int(block[4]) if block[:4] == "conv" and block[4:5].isdigit() else 99
    part = ("bottleneck" if block == deepest else
            "decoder" if block.endswith("_up") or block == "conv_bottom" or level > int(deepest[-1]) else "encoder")
    return f"U-Net {parts[0][-1]} | {part}"


def region_shares(fi: FilterIndex, sets: dict[str, np.ndarray], region=unet_region) -> pd.DataFrame:
    """Per region (``region(layer name)``) and set: % of the set there, and ``expected``: the region's share of all
    filters (what a random set shows); ``excess`` = share / expected."""
    regions = np.array([region(n) for n in fi.names])
    per = {n: regions[fi.locate(np.asarray(idx))[0]] for n, idx in sets.items()}
    everyone = np.repeat(regions, fi.counts)
    order = list(dict.fromkeys(regions))
    rows = []
    for name, got in per.items():
        for r in order:
            share, expected = 100 * np.mean(got == r), 100 * np.mean(everyone == r)
            rows.append(dict(set=name, region=r, share=share, expected=expected, excess=share / expected))
    return pd.DataFrame(rows)


@dataclass
class DepthTest:
    """Mean normalised depth of each filter set, its spread, and permutation p-values."""

    depth: dict[str, float]  # mean normalised depth of each set
    spread: dict[str, float]  # its standard deviation (how evenly a set spreads over the network)
    random_depth: float  # expectation for a uniformly random set of filters
    p_deeper_than_random: dict[str, float]  # one-sided, random sets of the same size
    p_deeper: dict[tuple[str, str], float]  # (a, b): one-sided, labels shuffled between the two sets
    n_permutations: int

    def table(self) -> pd.DataFrame:
        """One row per set: depth, spread, p (deeper than random)."""
        return pd.DataFrame({"mean depth": self.depth, "depth s.d.": self.spread,
                             "p (deeper than random)": self.p_deeper_than_random}).rename_axis("set")


def depth_test(fi: FilterIndex, sets: dict[str, np.ndarray], n_permutations: int = 10_000, seed: int = 0) -> DepthTest:
    """Test "set a sits deeper in the network than set b" (and than random sets) by permutation:
    p = (1 + #{permutations at least as deep}) / (1 + n_permutations)."""
    rng = np.random.default_rng(seed)
    depth_all = positions(fi, np.arange(len(fi))).depth.to_numpy()
    d = {name: depth_all[np.asarray(idx)] for name, idx in sets.items()}
    p_rand = {}
    for name, v in d.items():
        rand = np.array([depth_all[rng.choice(len(fi), len(v), replace=False)].mean() for _ in range(n_permutations)])
        p_rand[name] = float((1 + (rand >= v.mean()).sum()) / (1 + n_permutations))
    p_pair = {}
    names = list(d)
    for i, a in enumerate(names):
        for b in names[i + 1:]:  # one set of label shuffles serves both directions: mean_b − mean_a = −diff
            pooled, k = np.concatenate([d[a], d[b]]), len(d[a])
            shuffled = rng.permuted(np.broadcast_to(pooled, (n_permutations, len(pooled))), axis=1)
            diffs = shuffled[:, :k].mean(1) - shuffled[:, k:].mean(1)
            obs = d[a].mean() - d[b].mean()
            p_pair[a, b] = float((1 + (diffs >= obs).sum()) / (1 + n_permutations))
            p_pair[b, a] = float((1 + (diffs <= obs).sum()) / (1 + n_permutations))
    return DepthTest({n: float(v.mean()) for n, v in d.items()}, {n: float(v.std()) for n, v in d.items()},
                     float(depth_all.mean()), p_rand, p_pair, n_permutations)
