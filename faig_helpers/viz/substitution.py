"""Substitution (notebooks 02, 07, 08): the paper's table, output difference against the proportion
substituted, and grids of the images."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..degradations import degradation
from .style import function_label, method_colour, method_label

__all__ = ["plot_substitution_table", "plot_substitution_curves", "plot_qualitative_grid"]


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
