"""Degradation prediction (notebook 05): accuracy against the threshold, ROC curves and the AUC of each
predictor."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .style import degradation_colours, method_label

__all__ = ["FX_STYLES", "FX_LABELS", "predictor_label", "plot_accuracy_vs_threshold", "plot_roc_curves",
           "plot_predictor_auc", "plot_auc_vs_percent", "plot_prediction_accuracy", "plot_prediction_rocs",
           "plot_prediction_predictors"]

#: line styles of the per-input filter sets F_x by what their loss was measured against
FX_STYLES = {"target": "-", "gt": ":", "baseline": "-."}
FX_LABELS = {"target": "F_x from f_θ(x)", "gt": "F_x from ground truth", "baseline": "F_x from f_θ̄(x)"}


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
