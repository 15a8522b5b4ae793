"""The series' look, shared by every figure: theme, colour-blind-safe palette, fixed colours and labels of
methods and degradations, and saving."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from ..colours import COLORBLIND as _cb
from ..degradations import degradation
from ..io_utils import atomic_path
from ..methods import METHODS

__all__ = ["method_label", "method_colour", "degradation_colours", "function_label", "use_style", "savefig"]

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
