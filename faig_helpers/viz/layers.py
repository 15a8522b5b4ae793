"""Where the filters lie (notebooks 01, 03, 08): per-layer counts, maps and shares of filter sets, shares per
network region, and the readable per-layer axis they share."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..filters import FilterIndex
from .style import degradation_colours, function_label

__all__ = ["short_layer_names", "layer_ticks", "top_counts_per_layer", "set_layer_axis", "plot_top_filters_per_layer",
           "plot_filter_map", "plot_layer_shares", "plot_region_shares"]


def short_layer_names(fi: FilterIndex) -> list[str]:
    """'body.3.conv1.weight' → 'b3.c1', 'features.12.weight' → 'f12', others without '.weight'."""
    out = []
    for n in fi.names:
        n = n.removesuffix(".weight")
        n = n.replace("body.", "b").replace(".conv", ".c").replace("features.", "f")
        out.append(n)
    return out


def layer_ticks(fi: FilterIndex, max_labels: int = 18) -> tuple[list[int], list[str]]:
    """Readable x ticks for a per-layer axis: every layer of a small net; for a deep one, the first
    layer of each block ('body.N.*' → 'bN') and the layers outside blocks, thinned to ``max_labels``."""
    names = short_layer_names(fi)
    if len(names) <= max_labels:
        return list(range(len(names))), names
    pos, labels, seen = [], [], set()
    for i, n in enumerate(names):
        block = n.split(".")[0] if n.startswith("b") and "." in n else n
        if block not in seen:
            seen.add(block)
            pos.append(i)
            labels.append(block)
    if len(pos) > max_labels:  # e.g. a plain net of 40 layers: every n-th, always the last
        keep = sorted(set(np.linspace(0, len(pos) - 1, max_labels).round().astype(int)))
        pos, labels = [pos[j] for j in keep], [labels[j] for j in keep]
    return pos, labels


def set_layer_axis(ax: plt.Axes, fi: FilterIndex, label: str = "conv layer (network order)") -> None:
    """Per-layer x axis with :func:`layer_ticks` labels and a limit of one column per layer."""
    pos, labels = layer_ticks(fi)
    long = max(map(len, labels)) > 3
    ax.set_xticks(pos, labels, rotation=60 if long else 0, ha="right" if long else "center")
    ax.set_xlim(-0.7, len(fi.names) - 0.3)
    ax.set_xlabel(label)


def top_counts_per_layer(fi: FilterIndex, index: np.ndarray) -> np.ndarray:
    layer, _, _ = fi.locate(index)
    return np.bincount(layer, minlength=len(fi.names))


def plot_top_filters_per_layer(fi: FilterIndex, sets: Mapping[str, np.ndarray], title: str = "",
                               ax: plt.Axes | None = None) -> plt.Axes:
    """Side-by-side bars: how many filters of each set ('blur'/'noise' → indices) each conv layer holds."""
    ax = ax or plt.subplots(figsize=(10, 3.2))[1]
    width = 0.8 / max(1, len(sets))
    colours = degradation_colours(list(sets))
    for j, (deg, idx) in enumerate(sets.items()):
        x = np.arange(len(fi.names)) + (j - (len(sets) - 1) / 2) * width
        ax.bar(x, top_counts_per_layer(fi, idx), width, color=colours[deg], label=f"{function_label(deg)} filters")
    set_layer_axis(ax, fi)
    ax.set_ylabel(f"# of the top {len(next(iter(sets.values())))} filters")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_filter_map(fi: FilterIndex, sets: Mapping[str, np.ndarray], title: str = "", ax: plt.Axes | None = None
                    ) -> plt.Axes:
    """Paper-style map (Fig. 6): one column per conv layer, each discovered filter marked at its
    position inside the layer (normalised to [0, 1) so layers of different sizes line up); the sets
    ('blur'/'noise' → indices) sit side by side in each column."""
    from ..distribution import positions

    ax = ax or plt.subplots(figsize=(10, 4))[1]
    offsets = np.linspace(-0.18, 0.18, len(sets)) if len(sets) > 1 else [0.0]
    colours = degradation_colours(list(sets))
    for off, (deg, idx) in zip(offsets, sets.items()):
        pos = positions(fi, idx)
        ax.scatter(pos.layer + off, pos.position, s=40, marker="_", linewidths=1.2, color=colours[deg],
                   label=f"{function_label(deg)} filters ({len(pos)})")
    for l in range(len(fi.names) + 1):
        ax.axvline(l - 0.5, color="0.85", lw=0.6, zorder=0)
    set_layer_axis(ax, fi)
    ax.grid(False, axis="x")
    ax.set(ylabel="position within layer (normalised)", ylim=(-0.02, 1.02), title=title)
    ax.legend(loc="upper left", fontsize=8, markerscale=1.5)
    return ax


def plot_layer_shares(fi: FilterIndex, shares: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Bars: % of each set per layer (from :func:`~faig_helpers.distribution.layer_shares`); grey
    ticks: the layer's share of all filters, what a random set would show."""
    ax = ax or plt.subplots(figsize=(10, 3.2))[1]
    sets = [s for s in shares.set.unique() if s != "all filters"]
    width = 0.8 / max(1, len(sets))
    colours = degradation_colours(sets)
    for j, name in enumerate(sets):
        sh = shares[shares.set == name].sort_values("layer")
        ax.bar(sh.layer + (j - (len(sets) - 1) / 2) * width, sh.share, width, label=f"{function_label(name)} filters",
               color=colours[name])
    allf = shares[shares.set == "all filters"].sort_values("layer")
    ax.scatter(allf.layer, allf.share, marker="_", s=200, color="0.3", label="all filters", zorder=3)
    set_layer_axis(ax, fi)
    ax.set(ylabel="% of the set", title=title)
    ax.legend(fontsize=8)
    return ax


def plot_region_shares(shares: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """% of each filter set per network region (:func:`region_shares`), beside the region's share of all
    filters (grey: what a random set shows)."""
    ax = ax or plt.subplots(figsize=(8, 3.6))[1]
    sets = list(dict.fromkeys(shares.set))
    regions = list(dict.fromkeys(shares.region))
    colours = degradation_colours(sets)
    width = 0.8 / (len(sets) + 1)
    x = np.arange(len(regions))
    first = shares[shares.set == sets[0]].set_index("region").loc[regions]
    ax.bar(x - 0.4 + width / 2, first.expected, width, color="0.7", label="all filters (random set)")
    for k, s in enumerate(sets, start=1):
        v = shares[shares.set == s].set_index("region").loc[regions]
        ax.bar(x - 0.4 + width * (k + 0.5), v.share, width, color=colours[s], label=f"{function_label(s)} set")
    ax.set_xticks(x, [r.replace(" | ", "\n") for r in regions], fontsize=8)
    ax.set(ylabel="% of the set", title=title)
    ax.legend(fontsize=8)
    return ax
