"""The series' colour-blind-safe palette, without importing a plotting library (a method declares its colour
here; the CLI never loads matplotlib or seaborn).

:data:`COLORBLIND` is seaborn's ``color_palette("colorblind")`` (Okabe–Ito based), value for value.
"""
from __future__ import annotations

__all__ = ["COLORBLIND", "hex_to_rgb"]


def hex_to_rgb(code: str) -> tuple[float, float, float]:
    """'#0173b2' → (0.0039…, 0.4509…, 0.6980…), as matplotlib and seaborn give it."""
    return tuple(int(code[k:k + 2], 16) / 255 for k in (1, 3, 5))


COLORBLIND: list[tuple[float, float, float]] = [hex_to_rgb(c) for c in (
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9")]
