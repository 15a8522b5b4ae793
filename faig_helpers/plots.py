"""Figures of the series (matplotlib + seaborn, colour-blind-safe palette, labelled axes)."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .filters import FilterIndex
from .io_utils import atomic_path

__all__ = ["PALETTE", "METHOD_LABELS", "savefig", "short_layer_names", "plot_top_filters_per_layer",
           "plot_overlap_heatmap", "plot_score_distribution", "plot_convergence", "jaccard_matrix"]

sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
_cb = sns.color_palette("colorblind")
#: one colour per method and per degradation, fixed across figures
PALETTE = {"faig": _cb[0], "ig": _cb[1], "abs_filter_change": _cb[2], "random": _cb[7],
           "blur": _cb[0], "noise": _cb[3]}
METHOD_LABELS = {"faig": "FAIG", "ig": "IG", "abs_filter_change": "|Δθ|", "random": "random"}


def savefig(fig: plt.Figure, name: str, figures_dir: str | os.PathLike, dpi: int = 130) -> Path:
    """Save ``fig`` as ``figures_dir/name`` (PNG), atomically."""
    path = Path(figures_dir) / name
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    return path


def short_layer_names(fi: FilterIndex) -> list[str]:
    """'body.3.conv1.weight' → 'b3.c1', 'features.12.weight' → 'f12', others without '.weight'."""
    out = []
    for n in fi.names:
        n = n.removesuffix(".weight")
        n = n.replace("body.", "b").replace(".conv", ".c").replace("features.", "f")
        out.append(n)
    return out


def top_counts_per_layer(fi: FilterIndex, index: np.ndarray) -> np.ndarray:
    layer, _, _ = fi.locate(index)
    return np.bincount(layer, minlength=len(fi.names))


def plot_top_filters_per_layer(fi: FilterIndex, rankings: Mapping[str, np.ndarray], k: int,
                               title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Grouped bars: how many of the top-k blur / noise filters each conv layer holds."""
    ax = ax or plt.subplots(figsize=(10, 3.2))[1]
    names = short_layer_names(fi)
    df = pd.DataFrame([{"layer": names[l], "degradation": d, "filters": c}
                       for d, idx in rankings.items() for l, c in enumerate(top_counts_per_layer(fi, idx[:k]))])
    sns.barplot(df, x="layer", y="filters", hue="degradation", palette=PALETTE, ax=ax)
    ax.set_xlabel("conv layer (network order)")
    ax.set_ylabel(f"# of top-{k} filters")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=60)
    return ax


def jaccard_matrix(sets: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Pairwise Jaccard |A∩B| / |A∪B| of filter sets."""
    keys = list(sets)
    s = {k: set(np.asarray(v).tolist()) for k, v in sets.items()}
    m = [[len(s[a] & s[b]) / max(1, len(s[a] | s[b])) for b in keys] for a in keys]
    return pd.DataFrame(m, index=keys, columns=keys)


def plot_overlap_heatmap(jac: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    ax = ax or plt.subplots(figsize=(6.5, 5.5))[1]
    sns.heatmap(jac, vmin=0, vmax=1, cmap="cividis", annot=True, fmt=".2f", square=True, ax=ax,
                cbar_kws={"label": "Jaccard index of top sets"})
    ax.set_xlabel("method / degradation")
    ax.set_ylabel("method / degradation")
    ax.set_title(title)
    return ax


def plot_score_distribution(scores: np.ndarray, k: int, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Histogram of FAIG blur scores (symlog x) with the top-k thresholds of both rankings."""
    ax = ax or plt.subplots(figsize=(6, 3.2))[1]
    lin = np.quantile(np.abs(scores), 0.5) or 1e-12
    bins = np.concatenate([-np.geomspace(np.abs(scores).max(), lin, 40), np.geomspace(lin, np.abs(scores).max(), 40)])
    ax.hist(scores, bins=np.unique(bins), color=_cb[7], alpha=0.8)
    s = np.sort(scores)
    ax.axvline(s[-k], color=PALETTE["blur"], ls="--", label=f"top-{k} blur")
    ax.axvline(s[k - 1], color=PALETTE["noise"], ls="--", label=f"top-{k} noise")
    ax.set_xscale("symlog", linthresh=lin)
    ax.set_yscale("log")
    ax.set_xlabel("FAIG blur score = −noise score")
    ax.set_ylabel("# filters")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_convergence(df: pd.DataFrame, axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """Two panels against the node count: |relative completeness delta| and top-1% Jaccard vs reference."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    sns.lineplot(df, x="nodes", y="abs_delta", hue="rule", marker="o", ax=axes[0])
    axes[0].set(xscale="log", yscale="log", xlabel="quadrature nodes N",
                ylabel="|Σ G⊙Δθ − ΔL| / |ΔL|", title="completeness delta (lower is better)")
    sns.lineplot(df, x="nodes", y="jaccard_top1", hue="rule", marker="o", ax=axes[1], legend=False)
    axes[1].set(xscale="log", xlabel="quadrature nodes N", ylabel="top-1% Jaccard vs reference",
                title="ranking agreement (higher is better)", ylim=(0, 1.05))
    for ax in axes:
        ax.set_xticks(sorted(df.nodes.unique()), [str(n) for n in sorted(df.nodes.unique())])
    return axes


_PANELS = [("blur", "blurry", "deblur filters substituted, blurry input (higher is better)"),
           ("blur", "noisy", "deblur filters substituted, noisy input (lower is better)"),
           ("noise", "noisy", "denoise filters substituted, noisy input (higher is better)"),
           ("noise", "blurry", "denoise filters substituted, blurry input (lower is better)")]


def plot_substitution_table(table: pd.DataFrame, proportions: Sequence[float], title: str = "",
                            axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """Paper-style table as annotated heatmaps: rows methods, columns p% × input, one panel per
    substituted filter set. Values: output difference (×1000 MSE of gradient maps)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(13, 3.2))
    for ax, deg in zip(axes, ("blur", "noise")):
        sub = table[(table.masked == deg) & table.proportion.isin(proportions)]
        order = ["blurry", "noisy"] if deg == "blur" else ["noisy", "blurry"]
        piv = sub.pivot_table(index="method", columns=["proportion", "input"], values="output_difference")
        piv = piv.reindex(columns=pd.MultiIndex.from_product([proportions, order]))
        piv = piv.reindex([m for m in METHOD_LABELS if m in piv.index])
        piv.index = [METHOD_LABELS[m] for m in piv.index]
        piv.columns = [f"{p:g}% {i}" for p, i in piv.columns]
        sns.heatmap(np.log10(piv.clip(lower=1e-4)), annot=piv.round(3), fmt="", cmap="cividis", cbar=False, ax=ax,
                    annot_kws={"fontsize": 8})
        ax.set_title(f"{title}: {'deblur' if deg == 'blur' else 'denoise'} filters substituted", fontsize=10)
        ax.set_xlabel("proportion substituted, input")
        ax.set_ylabel("method")
        ax.tick_params(axis="x", rotation=45)
        ax.tick_params(axis="y", rotation=0)
    return axes


def plot_substitution_curves(table: pd.DataFrame, title: str = "", axes: Sequence[plt.Axes] | None = None
                             ) -> Sequence[plt.Axes]:
    """The paper's four curve panels: output difference against the proportion substituted."""
    if axes is None:
        _, axes = plt.subplots(1, 4, figsize=(18, 3.6))
    for ax, (deg, inp, label) in zip(axes, _PANELS):
        sub = table[(table.masked == deg) & (table.input == inp)].copy()
        sub["method"] = sub.method.map(METHOD_LABELS)
        sns.lineplot(sub, x="proportion", y="output_difference", hue="method", marker=".", ax=ax,
                     palette={METHOD_LABELS[m]: PALETTE[m] for m in METHOD_LABELS}, legend=ax is axes[0])
        ax.set(xlabel="filters substituted (%)", ylabel="output difference (×1000)", title=label)
        ax.title.set_fontsize(9)
    axes[0].figure.suptitle(title)
    return axes


def plot_qualitative_grid(images: Mapping[str, Mapping[str, np.ndarray]], title: str = "") -> plt.Figure:
    """Rows: input kinds; columns: named HWC images (e.g. input, target, substituted …)."""
    rows = list(images)
    cols = list(images[rows[0]])
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.6 * len(cols), 2.7 * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        for c, col in enumerate(cols):
            ax = axes[r, c]
            ax.imshow(np.clip(images[row][col], 0, 1), interpolation="nearest")
            ax.set_xticks([]); ax.set_yticks([])
            if r == 0:
                ax.set_title(col, fontsize=9)
            if c == 0:
                ax.set_ylabel(row)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
