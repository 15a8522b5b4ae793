"""Figures of the series (matplotlib + seaborn, colour-blind-safe palette, labelled axes)."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import NullLocator

from .degradations import degradation
from .filters import FilterIndex
from .io_utils import atomic_path
from .methods import METHODS

__all__ = ["method_label", "method_colour", "degradation_colours", "function_label", "use_style", "savefig",
           "short_layer_names", "layer_ticks", "top_counts_per_layer", "set_layer_axis", "plot_top_filters_per_layer",
           "plot_filter_map", "plot_layer_shares", "jaccard_matrix", "plot_overlap_heatmap", "plot_score_distribution",
           "plot_convergence", "plot_ranking_confidence", "plot_substitution_table", "plot_substitution_curves",
           "plot_qualitative_grid", "plot_lambda_grid", "plot_modulation_curves", "plot_reference_sweep",
           "plot_region_shares", "plot_lam_panels", "plot_di_changes",
           "plot_localizers"]

_cb = sns.color_palette("colorblind")
#: fixed colours of the base operators' degradations across figures; other degradations take the rest
_DEGRADATION_COLOURS = {"blur": _cb[0], "noise": _cb[3], "jpeg": _cb[4]}


def method_label(method: str) -> str:
    """The label a registered method declares ('FAIG', 'IG', '|Δθ|', …); the name for anything else."""
    cls = METHODS.get(method)
    return cls.label if cls is not None else method


def method_colour(method: str):
    """The colour a registered method declares (fixed across figures); grey for anything else."""
    cls = METHODS.get(method)
    return cls.colour if cls is not None and cls.colour is not None else "0.5"


def degradation_colours(degradations: Sequence[str]) -> dict[str, tuple]:
    """One colour-blind-safe colour per degradation: blur, noise and JPEG keep theirs in every figure."""
    rest = [c for c in _cb if c not in _DEGRADATION_COLOURS.values()]
    out, k = {}, 0
    for d in degradations:
        if d in _DEGRADATION_COLOURS:
            out[d] = _DEGRADATION_COLOURS[d]
        else:
            out[d], k = rest[k % len(rest)], k + 1
    return out


def function_label(d: str) -> str:
    """'blur' → 'deblur', 'noise' → 'denoise', 'jpeg30' → 'deJPEG (q 30)' (legend labels)."""
    return degradation(d).function


def use_style() -> None:
    """The series' look: seaborn's whitegrid theme with the colour-blind-safe palette (call once)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")


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
    from .distribution import positions

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


def plot_substitution_table(table: pd.DataFrame, proportions: Sequence[float], title: str = "",
                            axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """Paper-style table as annotated heatmaps, one panel per substituted filter set D: rows methods (in
    the table's order), columns p% × input (D's input first). Values: output difference (×1000 MSE of
    gradient maps)."""
    degs = list(dict.fromkeys(table.masked))
    if axes is None:
        _, axes = plt.subplots(1, len(degs), figsize=(6.5 * len(degs), 3.2), squeeze=False)
        axes = axes[0]
    methods = list(dict.fromkeys(table.method))
    for ax, deg in zip(axes, degs):
        sub = table[(table.masked == deg) & table.proportion.isin(proportions)]
        order = [degradation(deg).input] + [degradation(d).input for d in degs if d != deg]
        piv = sub.pivot_table(index="method", columns=["proportion", "input"], values="output_difference")
        piv = piv.reindex(columns=pd.MultiIndex.from_product([proportions, order])).reindex(methods)
        piv.index = [method_label(m) for m in piv.index]
        piv.columns = [f"{p:g}% {i}" for p, i in piv.columns]
        sns.heatmap(np.log10(piv.clip(lower=1e-4)), annot=piv.round(3), fmt="", cmap="cividis", cbar=False, ax=ax,
                    annot_kws={"fontsize": 8})
        ax.set_title(f"{title}: {function_label(deg)} filters substituted", fontsize=10)
        ax.set_xlabel("proportion substituted, input")
        ax.set_ylabel("method")
        ax.tick_params(axis="x", rotation=45)
        ax.tick_params(axis="y", rotation=0)
    return axes


def plot_substitution_curves(table: pd.DataFrame, title: str = "", axes: np.ndarray | None = None) -> np.ndarray:
    """Output difference against the proportion substituted, one panel per (substituted set D, input D')
    — the paper's four panels for blur and noise; an N×N grid for N degradations (rows: D, columns: D';
    on the diagonal higher is better, off it lower)."""
    degs = list(dict.fromkeys(table.masked))
    if axes is None:
        _, axes = plt.subplots(len(degs), len(degs), figsize=(4.6 * len(degs), 3.4 * len(degs)), squeeze=False)
    axes = np.asarray(axes).reshape(len(degs), len(degs))
    methods = list(dict.fromkeys(table.method))
    palette = {method_label(m): method_colour(m) for m in methods}
    for r, deg in enumerate(degs):
        for c, inp in enumerate(degs):
            ax = axes[r, c]
            sub = table[(table.masked == deg) & (table.input_degradation == inp)].copy()
            sub["method"] = sub.method.map(method_label)
            sns.lineplot(sub, x="proportion", y="output_difference", hue="method", marker=".", ax=ax,
                         palette=palette, hue_order=list(palette), legend=(r, c) == (0, 0))
            better = "higher" if deg == inp else "lower"
            ax.set(xlabel="filters substituted (%)", ylabel="output difference (×1000)",
                   title=f"{function_label(deg)} filters, {degradation(inp).input} input ({better} is better)")
            ax.title.set_fontsize(9)
    axes[0, 0].figure.suptitle(title)
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


def plot_lambda_grid(images: Sequence[np.ndarray], lambdas: Sequence[float], title: str = "", ncol: int = 8
                     ) -> plt.Figure:
    """The paper's λ grid (supp. Fig. 10–11): one restored image per λ, ``ncol`` per row."""
    nrow = int(np.ceil(len(lambdas) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.1 * ncol, 2.3 * nrow), squeeze=False)
    for ax, lam, img in zip(axes.ravel(), lambdas, images):
        ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
        ax.set_title(f"λ = {lam:.1f}", fontsize=9)
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_modulation_curves(sweep: pd.DataFrame, axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """Output difference to the target and PSNR against λ (from :func:`~faig_helpers.modulation.lambda_sweep`).
    One colour per filter set; solid: the input the set is for, dashed: the other inputs."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    degs = list(dict.fromkeys(sweep.filters))
    colours = degradation_colours(degs)
    for d in degs:
        own = degradation(d).input
        for inp in dict.fromkeys(sweep.input):
            s = sweep[(sweep.filters == d) & (sweep.input == inp)]
            style = dict(ls="-" if inp == own else "--", marker=".", color=colours[d],
                         label=f"{function_label(d)} filters, {inp} input")
            axes[0].plot(s.lam, s.output_difference, **style)
            axes[1].plot(s.lam, s.psnr, **style)
    axes[0].set(xlabel="λ", ylabel="output difference to target (×1000)", title="distance from the target")
    axes[1].set(xlabel="λ", ylabel="PSNR (dB)", title="restoration quality")
    for ax in axes:
        ax.axvline(1.0, color="0.5", lw=0.8)
    axes[1].legend(fontsize=8)
    return axes


# ---------------------------------------------------------------- notebook 05: degradation prediction

#: line styles of the per-input filter sets F_x by what their loss was measured against
FX_STYLES = {"target": "-", "gt": ":", "baseline": "-."}
FX_LABELS = {"target": "F_x from f_θ(x)", "gt": "F_x from ground truth", "baseline": "F_x from f_θ̄(x)"}
__all__ += ["FX_STYLES", "FX_LABELS", "predictor_label", "plot_accuracy_vs_threshold", "plot_roc_curves",
            "plot_predictor_auc", "plot_auc_vs_percent"]


def predictor_label(predictor: str) -> str:
    """'faig' → 'FAIG F_D', 'classical' → 'classical statistic' (legends of notebook 05)."""
    return "classical statistic" if predictor == "classical" else f"{method_label(predictor)} F_D"


def plot_accuracy_vs_threshold(curves: pd.DataFrame, paper: Mapping[str, Mapping[str, float]] | None = None,
                               title: str = "", axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """The paper's figure: accuracy of "OS(x, D) > T" against T ∈ [0, 1], one panel per degradation.
    ``curves``: columns threshold, degradation, accuracy, label, and optionally style ('-', ':' …);
    ``paper``: {degradation: {'threshold', 'accuracy'}} drawn as a star on a dotted vertical line."""
    degs = list(dict.fromkeys(curves.degradation))
    colours = degradation_colours(degs)
    if axes is None:
        _, axes = plt.subplots(1, len(degs), figsize=(5.5 * len(degs), 3.6), squeeze=False)
        axes = axes[0]
    for ax, deg in zip(axes, degs):
        sub = curves[curves.degradation == deg]
        for label, c in sub.groupby("label", sort=False):
            style = c["style"].iloc[0] if "style" in c else "-"
            ax.plot(c.threshold, c.accuracy, ls=style, color=c["color"].iloc[0] if "color" in c else colours[deg],
                    label=label)
        if paper and deg in paper:
            t, a = paper[deg]["threshold"], paper[deg]["accuracy"]
            ax.axvline(t, color="0.5", ls=":", lw=0.8)
            ax.scatter([t], [a], marker="*", s=140, color="k", zorder=3, label=f"paper: {a:.0%} at T = {t:g}")
        ax.set(xlabel=f"threshold T_{deg} on OS(x, {deg})", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.03),
               title=f"{title}: does x contain {deg}?" if title else f"does x contain {deg}?")
        ax.legend(fontsize=7, loc="lower left")
    return axes


def plot_roc_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]], title: str = "",
                    colors: Mapping[str, object] | None = None, styles: Mapping[str, str] | None = None,
                    ax: plt.Axes | None = None) -> plt.Axes:
    """ROC curves {label: (false-positive rate, true-positive rate, AUC)} with the AUC in the legend
    and the chance diagonal."""
    ax = ax or plt.subplots(figsize=(4.5, 4.2))[1]
    for label, (fpr, tpr, area) in curves.items():
        ax.plot(fpr, tpr, color=(colors or {}).get(label), ls=(styles or {}).get(label, "-"), drawstyle="default",
                label=f"{label} (AUC {area:.2f})")
    ax.plot([0, 1], [0, 1], color="0.7", lw=0.8, ls="--")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", xlim=(-0.01, 1.01), ylim=(-0.01, 1.02),
           title=title)
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_predictor_auc(table: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Grouped bars: AUC of each predictor (column predictor, labels from :func:`predictor_label`)
    for each degradation (column degradation), with the chance level 0.5."""
    ax = ax or plt.subplots(figsize=(6, 3.4))[1]
    t = table.copy()
    t["predictor"] = t.predictor.map(predictor_label)
    degs = list(dict.fromkeys(t.degradation))
    sns.barplot(t, x="predictor", y="auc", hue="degradation", palette=degradation_colours(degs), hue_order=degs, ax=ax)
    ax.axhline(0.5, color="0.4", ls="--", lw=0.8)
    ax.set(ylim=(0, 1.02), xlabel="predictor", ylabel="AUC", title=title)
    ax.tick_params(axis="x", rotation=30)
    for lab in ax.get_xticklabels():
        lab.set_ha("right")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_auc_vs_percent(table: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """AUC against the top-k percentage (columns percent, degradation, auc), one line per degradation."""
    ax = ax or plt.subplots(figsize=(4.5, 3.4))[1]
    colours = degradation_colours(list(dict.fromkeys(table.degradation)))
    for deg, c in table.groupby("degradation", sort=False):
        ax.plot(c.percent, c.auc, marker="o", color=colours[deg], label=deg)
    ax.axhline(0.5, color="0.4", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xticks(sorted(table.percent.unique()), [f"{p:g}" for p in sorted(table.percent.unique())])
    ax.set(ylim=(0, 1.02), xlabel="top-k set size (% of filters)", ylabel="AUC", title=title)
    ax.legend(fontsize=8)
    return ax


__all__ += ["plot_prediction_accuracy", "plot_prediction_rocs", "plot_prediction_predictors"]
_ALL_STRENGTHS = "0.45"  # colour of the curves over all strengths


def _nets(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(net, its rows) of a table with a 'net' column, or ('', the table)."""
    return [(n, table[table.net == n]) for n in dict.fromkeys(table.net)] if "net" in table else [("", table)]


def plot_prediction_accuracy(curves: pd.DataFrame, thresholds: Mapping[str, float] | None = None,
                             paper_accuracy: Mapping[str, float] | None = None, percent: float | None = None
                             ) -> plt.Figure:
    """Notebook 05's accuracy figure: one row per net (column net, if any), one panel per degradation, the
    curves of :func:`~faig_helpers.prediction.tables.accuracy_table` (columns threshold, degradation, inputs,
    fx, accuracy) styled by F_x, grey over all strengths; a star at each paper (T, accuracy)."""
    nets = _nets(curves)
    degs = list(dict.fromkeys(curves.degradation))
    colours = degradation_colours(degs)
    paper = {d: dict(threshold=thresholds[d], accuracy=paper_accuracy[d]) for d in degs
             if d in (thresholds or {}) and d in (paper_accuracy or {})}
    fig, axes = plt.subplots(len(nets), len(degs), figsize=(5.5 * len(degs), 3.8 * len(nets)), squeeze=False)
    for row, (net, c) in zip(axes, nets):
        c = c.assign(label=[f"{FX_LABELS.get(fx, fx)}, {inp}" for fx, inp in zip(c.fx, c.inputs)],
                     style=[FX_STYLES.get(fx, "-") for fx in c.fx],
                     color=[_ALL_STRENGTHS if inp == "all strengths" else colours[d]
                            for d, inp in zip(c.degradation, c.inputs)])
        k = f" (k = {percent:g}%)" if percent is not None else ""
        plot_accuracy_vs_threshold(c, paper, f"{net}{k}".strip(), row)
    fig.tight_layout()
    return fig


def plot_prediction_rocs(points: pd.DataFrame) -> plt.Figure:
    """Notebook 05's ROC figure: one row per net, one panel per degradation; FAIG's curve at each strength
    in shades of the degradation's colour, the classical statistic grey dashed (columns of
    :func:`~faig_helpers.prediction.tables.roc_table`)."""
    nets = _nets(points)
    degs = list(dict.fromkeys(points.degradation))
    colours = degradation_colours(degs)
    fig, axes = plt.subplots(len(nets), len(degs), figsize=(5 * len(degs), 4.6 * len(nets)), squeeze=False)
    for row, (net, t) in zip(axes, nets):
        for ax, d in zip(row, degs):
            sub = t[t.degradation == d]
            labels = list(dict.fromkeys(sub.curve))
            faig = [lab for lab in labels if not lab.startswith("classical")]
            shades = dict(zip(faig, sns.light_palette(colours[d], len(faig) + 2)[2:]))
            rocs = {lab: (g.fpr.to_numpy(), g.tpr.to_numpy(), g.auc.iloc[0])
                    for lab, g in sub.groupby("curve", sort=False)}
            plot_roc_curves(rocs, f"{net}: does x contain {d}?" if net else f"does x contain {d}?",
                            {lab: shades.get(lab, "0.5") for lab in labels},
                            {lab: "--" for lab in labels if lab not in shades}, ax)
    fig.tight_layout()
    return fig


def plot_prediction_predictors(predictors: pd.DataFrame, by_k: pd.DataFrame, percent: float) -> plt.Figure:
    """Notebook 05's predictor figure: per net, the AUC of every predictor at the set strengths (F_x from
    f_θ(x); :func:`~faig_helpers.prediction.tables.predictor_table`) and FAIG's AUC against k
    (:func:`~faig_helpers.prediction.tables.k_table`)."""
    nets = _nets(predictors)
    fig, axes = plt.subplots(len(nets), 2, figsize=(12, 3.9 * len(nets)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.6, 1]})
    ks = dict(_nets(by_k))
    for row, (net, t) in zip(axes, nets):
        head = f"{net}: " if net else ""
        plot_predictor_auc(t[(t.fx == "target") | (t.predictor == "classical")],
                           f"{head}AUC at the set strengths (k = {percent:g}%)", row[0])
        plot_auc_vs_percent(ks[net], f"{head}FAIG OS against k", row[1])
    fig.tight_layout()
    return fig
# ---------------------------------------------------------------- notebooks 04 and 07: DNI and the ablations

__all__ += ["plot_dni_vs_filters", "plot_baseline_choice", "plot_retrain_table"]


def plot_dni_vs_filters(filter_sweep: pd.DataFrame, whole_sweep: pd.DataFrame,
                        axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """PSNR against λ on each input type (one panel each): FAIG modulation of each filter set (colour of the
    set; solid on the set's own input) and DNI, whole-network interpolation (black, dash-dotted)."""
    inputs = list(dict.fromkeys(whole_sweep.input))
    if axes is None:
        _, axes = plt.subplots(1, len(inputs), figsize=(4.8 * len(inputs), 3.6), squeeze=False)
        axes = axes[0]
    degs = list(dict.fromkeys(filter_sweep.filters))
    colours = degradation_colours(degs)
    for ax, inp in zip(axes, inputs):
        for d in degs:
            s = filter_sweep[(filter_sweep.filters == d) & (filter_sweep.input == inp)]
            ax.plot(s.lam, s.psnr, ls="-" if degradation(d).input == inp else "--", marker=".", color=colours[d],
                    label=f"FAIG: top {function_label(d)} filters")
        s = whole_sweep[whole_sweep.input == inp]
        ax.plot(s.lam, s.psnr, ls="-.", marker=".", color="k", label="DNI: whole network")
        ax.axvline(1.0, color="0.5", lw=0.8)
        ax.set(xlabel="λ", ylabel="PSNR (dB)", title=f"{inp} input")
    axes[0].legend(fontsize=8)
    return axes


def plot_baseline_choice(table: pd.DataFrame, axes: Sequence[plt.Axes] | None = None) -> Sequence[plt.Axes]:
    """The baseline-choice ablation (:func:`~faig_helpers.ablations.substitution_quality`): for each baseline
    and substituted set, the output difference on the set's own input and on the others (left, log scale),
    PSNR (middle) and the mean intensity change of the outputs (right, 8-bit levels)."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    t = table.copy()
    own = t.apply(lambda r: degradation(r.masked).input == r.input, axis=1)
    t["set, input"] = [f"{function_label(m)} set, {'own' if o else 'other'} input" for m, o in zip(t.masked, own)]
    for ax, col, label in zip(axes, ("output_difference", "psnr", "intensity_change"),
                              ("output difference to target (×1000)", "PSNR (dB)", "mean intensity change (levels)")):
        sns.barplot(t, x="set, input", y=col, hue="baseline", ax=ax, palette="colorblind")
        ax.set(xlabel="", ylabel=label)
        ax.tick_params(axis="x", rotation=25)
        if col == "output_difference":
            ax.set_yscale("log")
        if col == "intensity_change":
            ax.axhline(0, color="0.4", lw=0.8)
        if ax is not axes[0]:
            ax.get_legend().remove()
    axes[0].legend(fontsize=8, title="baseline", title_fontsize=8)
    axes[0].set_title("substituting each baseline's top set")
    return axes


def plot_retrain_table(table: pd.DataFrame, ax: plt.Axes | None = None,
                       reference: Mapping[str, Mapping[str, float]] | None = None) -> plt.Axes:
    """PSNR of the re-trained models (rows of ``table``: locations; columns: inputs) as grouped bars;
    ``reference``: label → {input: PSNR} drawn as a short dotted line over each input's group (e.g. the
    baseline's and the target's PSNR)."""
    ax = ax or plt.subplots(figsize=(7, 3.6))[1]
    long = table.reset_index(names="locations").melt(id_vars="locations", var_name="input", value_name="psnr")
    sns.barplot(long, x="input", y="psnr", hue="locations", ax=ax, palette="colorblind")
    lo = float(long.psnr.min())
    for k, (label, values) in enumerate((reference or {}).items()):
        for j, inp in enumerate(table.columns):
            if inp in values:
                ax.hlines(values[inp], j - 0.45, j + 0.45, color=str(0.1 + 0.35 * k), ls=":", lw=1.5,
                          label=label if j == 0 else None)
                lo = min(lo, float(values[inp]))
    ax.set(ylim=(lo - 1.0, None), xlabel="input", ylabel="PSNR (dB)")
    ax.legend(fontsize=7, ncol=2)
    return ax


def plot_reference_sweep(table: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """PSNR against λ of modulated outputs to each reference model's outputs (:func:`reference_sweep`): one
    colour per reference, FAIG modulation solid, DNI dash-dotted; the best λ of each marked."""
    ax = ax or plt.subplots(figsize=(6.4, 3.8))[1]
    refs = list(dict.fromkeys(table.reference))
    colours = dict(zip(refs, sns.color_palette("colorblind")[5:] + sns.color_palette("colorblind")[:5]))
    for (method, ref), s in table.groupby(["method", "reference"], sort=False):
        ax.plot(s.lam, s.psnr, ls="-" if method == "FAIG" else "-.", marker=".", color=colours[ref],
                label=f"{method} vs {ref}")
        best = s.loc[s.psnr.idxmax()]
        ax.plot(best.lam, best.psnr, marker="*", ms=11, color=colours[ref], ls="none")
    ax.axvline(1.0, color="0.5", lw=0.8)
    ax.set(xlabel="λ (1 = the target)", ylabel="PSNR to the reference (dB)", title=title)
    ax.legend(fontsize=8, ncol=2)
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


def plot_lam_panels(columns: Mapping[str, tuple[np.ndarray, "object"]], scale: int, title: str = "",
                    axes: np.ndarray | None = None) -> plt.Figure:
    """The LAM teaser layout: one column per model (label → (its output HWC in [0, 1], its LamResult)); top row:
    the output with the box, bottom row: the LAM map over the input (DI in the title). ``axes``: a 2 × columns
    block of a larger figure."""
    if axes is None:
        fig, axes = plt.subplots(2, len(columns), figsize=(3.2 * len(columns), 6.4), squeeze=False)
    else:
        fig = axes[0, 0].figure
    for k, (label, (image, r)) in enumerate(columns.items()):
        x, y, s = r.box
        axes[0, k].imshow(np.clip(image, 0, 1))
        axes[0, k].add_patch(plt.Rectangle((x - 0.5, y - 0.5), s, s, fill=False, ec="#d55e00", lw=1.5))
        axes[0, k].set_title(label, fontsize=9)
        axes[1, k].imshow(r.map, cmap="magma", vmin=0, vmax=1)
        axes[1, k].add_patch(plt.Rectangle(((x - 0.5) / scale - 0.5, (y - 0.5) / scale - 0.5), s / scale, s / scale,
                                           fill=False, ec="#56b4e9", lw=1.2))
        axes[1, k].set_title(f"LAM, DI {r.di:.2f}", fontsize=9)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel(f"{title}\noutput (box: the detector)" if title else "output (box: the detector)",
                          fontsize=9)
    axes[1, 0].set_ylabel("input pixels used (LR)", fontsize=9)
    return fig


def plot_di_changes(table: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Change of the diffusion index when each method's set is substituted (:func:`substitution_di`), one bar
    per (set, input), grouped by method."""
    ax = ax or plt.subplots(figsize=(8, 3.6))[1]
    t = table.assign(case=[f"{function_label(s)} set, {degradation(i).input} input"
                           for s, i in zip(table.set, table.input)],
                     Method=[method_label(m) for m in table.method])
    sns.barplot(t, x="case", y="change", hue="Method", palette=[method_colour(m) for m in dict.fromkeys(t.method)],
                ax=ax)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="", ylabel="DI change (substituted − target)", title=title)
    ax.tick_params(axis="x", labelsize=8, rotation=20)
    return ax


def plot_localizers(table: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Methods × measures at a glance (:func:`localizer_table`, one proportion): each cell's colour is the method's
    rank in that column (dark = best: most necessary, sufficient, specific; least colour shift; fastest), the
    number is the value, averaged over the sets."""
    measures = {"necessity": True, "sufficiency": True, "specificity": True, "colour_substituted": False,
                "colour_grafted": False, "seconds": False}
    labels = {"necessity": "necessity\n(gain lost)", "sufficiency": "sufficiency\n(gain recovered)",
              "specificity": "specificity\n(own / other Δ)", "colour_substituted": "colour shift\nsubstituted",
              "colour_grafted": "colour shift\ngrafted", "seconds": "seconds\nto rank"}
    t = table.replace([np.inf], 1e3).groupby("method", sort=False)[list(measures)].mean()
    ranks = pd.DataFrame({m: t[m].rank(ascending=not high) for m, high in measures.items()})
    ax = ax or plt.subplots(figsize=(8.5, 0.45 * len(t) + 1.2))[1]
    sns.heatmap(ranks, annot=t.map(lambda v: f"{v:.2g}" if np.isfinite(v) else "–"), fmt="", cmap="mako",
                cbar=False, ax=ax, xticklabels=[labels[m] for m in measures],
                yticklabels=[method_label(m) for m in t.index])
    ax.set(xlabel="", ylabel="", title=title)
    ax.tick_params(axis="x", labelsize=8)
    return ax
