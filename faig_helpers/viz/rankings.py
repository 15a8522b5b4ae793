"""Rankings (notebook 01): overlap of top sets, score distributions, quadrature convergence and how
confident a ranking is."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import NullLocator

from .style import _cb, degradation_colours

__all__ = ["plot_overlap_heatmap", "plot_score_distribution", "plot_convergence", "plot_ranking_confidence"]


def plot_overlap_heatmap(jac: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    ax = ax or plt.subplots(figsize=(6.5, 5.5))[1]
    sns.heatmap(jac, vmin=0, vmax=1, cmap="cividis", annot=True, fmt=".2f", square=True, ax=ax,
                cbar_kws={"label": "Jaccard index of top sets"})
    ax.set_xlabel("method / degradation")
    ax.set_ylabel("method / degradation")
    ax.set_title(title)
    return ax


def plot_score_distribution(scores: np.ndarray, k: int, degradation_name: str = "blur", title: str = "",
                            ax: plt.Axes | None = None) -> plt.Axes:
    """Histogram of one degradation's FAIG scores (symlog x) with its top-k threshold."""
    ax = ax or plt.subplots(figsize=(6, 3.2))[1]
    lin = np.quantile(np.abs(scores), 0.5) or 1e-12
    top = np.abs(scores).max() or 1.0
    bins = np.concatenate([-np.geomspace(top, lin, 40), np.geomspace(lin, top, 40)])
    ax.hist(scores, bins=np.unique(bins), color=_cb[7], alpha=0.8)
    ax.axvline(np.sort(scores)[-k], color=degradation_colours([degradation_name])[degradation_name], ls="--",
               label=f"top {k}")
    ax.set_xscale("symlog", linthresh=lin)
    ax.set_yscale("log")
    ax.set_xlabel(f"FAIG {degradation_name} score")
    ax.set_ylabel("# filters")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_convergence(df: pd.DataFrame, axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """Two panels against the node count (from :func:`~faig_helpers.convergence.convergence_table`):
    |relative completeness delta| and top-1% Jaccard of the first degradation's ranking with the reference."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    sns.lineplot(df, x="nodes", y="abs_delta", hue="rule", marker="o", ax=axes[0])
    axes[0].set(xscale="log", yscale="log", xlabel="quadrature nodes N",
                ylabel="|Σ G⊙Δθ − ΔL| / |ΔL|", title="completeness delta (lower is better)")
    first = next(c for c in df.columns if c.startswith("jaccard_"))
    sns.lineplot(df, x="nodes", y=first, hue="rule", marker="o", ax=axes[1], legend=False)
    axes[1].set(xscale="log", xlabel="quadrature nodes N", ylabel=f"top-1% Jaccard vs reference ({first[8:]})",
                title="ranking agreement (higher is better)", ylim=(0, 1.05))
    fixed = sorted(df[df.rule != "adaptive"].nodes.unique()) or sorted(df.nodes.unique())  # adaptive: a mean
    for ax in axes:
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(fixed, [f"{n:g}" for n in fixed])
    axes[0].legend(title="rule", fontsize="small", title_fontsize="small", loc="lower left")
    return axes


def plot_ranking_confidence(by_images: Mapping[str, pd.DataFrame], bootstrap: Mapping[str, np.ndarray],
                            crops: Mapping[str, float] | None = None, percent: float = 1.0,
                            axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """Left: top-p% Jaccard of rankings from m images with the all-image ranking (mean, 90% band) per
    network. Right: Jaccard between rankings of two bootstrap resamples (distribution), and the
    agreement of centre-crop rankings with whole-image ones (diamonds)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
    colours = dict(zip(by_images, sns.color_palette("colorblind", len(by_images))))
    for net, df in by_images.items():
        axes[0].plot(df.images, df["mean"], marker="o", color=colours[net], label=net)
        axes[0].fill_between(df.images, df.q05, df.q95, color=colours[net], alpha=0.2)
    axes[0].set(xlabel="evaluation images used", ylabel=f"top-{percent:g}% Jaccard with all images",
                title="how many images do I need?", ylim=(0, 1.05))
    axes[0].legend(fontsize=8)
    nets = list(bootstrap)
    parts = axes[1].violinplot([bootstrap[n] for n in nets], positions=range(len(nets)), showmedians=True)
    for body, n in zip(parts["bodies"], nets):
        body.set_color(colours.get(n, "0.5"))
    for key in ("cbars", "cmins", "cmaxes", "cmedians"):  # whiskers and medians in each network's colour
        parts[key].set_color([colours.get(n, "0.5") for n in nets])
    if crops:
        axes[1].scatter([nets.index(n) for n in crops], list(crops.values()), marker="D", color="k", zorder=3,
                        label="centre crops vs whole images")
        axes[1].legend(fontsize=8, loc="lower right")
    axes[1].set_xticks(range(len(nets)), [n.replace(" ", "\n") for n in nets], fontsize=8)  # "net\ndegradation"
    axes[1].set(ylabel=f"top-{percent:g}% Jaccard", title="two bootstrap resamples of the images", ylim=(0, 1.05))
    return axes
