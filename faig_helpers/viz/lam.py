"""Which input pixels (notebook 09, ``python -m faig_helpers lam``): local attribution maps and the change
of the diffusion index."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..degradations import degradation
from .style import function_label, method_colour, method_label

__all__ = ["plot_lam_panels", "plot_di_changes"]


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
