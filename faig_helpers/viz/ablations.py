"""The ablations (notebook 07): the choice of baseline and the re-trained locations."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ..degradations import degradation
from .style import function_label

__all__ = ["plot_baseline_choice", "plot_retrain_table"]


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
