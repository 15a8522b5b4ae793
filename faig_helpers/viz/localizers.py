"""The model-merging localizers (notebook 10): methods × measures at a glance."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .style import method_label

__all__ = ["plot_localizers"]


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
