"""Modulation (notebooks 04, 08, the λ panel): restored images and quality against λ, FAIG modulation of
filter sets against DNI, and the distance to reference models."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..degradations import degradation
from .style import degradation_colours, function_label

__all__ = ["plot_lambda_grid", "plot_modulation_curves", "plot_dni_vs_filters", "plot_reference_sweep"]


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
