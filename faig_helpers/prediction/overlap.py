"""The overlap score and the decision (the paper's prediction rule).

For a degradation D, F_D is the dataset-level top-k set of D-filters (``FilterScores.top(D, p)``) and
F_x the top-k set of one input's own attribution A_x; both use k = ⌊n·p/100⌋, at least 1 for p > 0
(:func:`~faig_helpers.filters.top_count`). Then

    OS(x, D) = |F_D ∩ F_x| / |F_x|,        predict "x contains D"  ⇔  OS(x, D) > T_D.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError
from ..filters import top_count, top_set

__all__ = ["overlap_score", "overlap_scores", "predict"]


def _k(n_filters: int, percent: float) -> int:
    k = top_count(n_filters, percent)
    if k < 1:
        raise ConfigError(f"top {percent:g}% of {n_filters} filters is an empty set: raise the percentage")
    return k


def overlap_score(f_d: Sequence[int] | np.ndarray, f_x: Sequence[int] | np.ndarray) -> float:
    """OS = |F_D ∩ F_x| / |F_x| for two filter sets (divided by |F_x|, not |F_D|)."""
    f_x = np.unique(np.asarray(f_x, dtype=np.int64))
    if not f_x.size:
        raise ConfigError("F_x is empty: the overlap score is undefined")
    return float(np.isin(f_x, np.asarray(f_d, dtype=np.int64)).sum() / f_x.size)


def overlap_scores(f_d: Sequence[int] | np.ndarray, attributions: np.ndarray, percent: float,
                   order: np.ndarray | None = None) -> np.ndarray:
    """OS(x, D) = |F_D ∩ F_x| / k for every row x of ``attributions`` (n_inputs, n_filters), F_x = the
    top-``percent``% of the row. ``order``: the rows' filter orders by descending A_x, if already
    computed (the first k columns are F_x); rows of NaN give NaN."""
    a = np.atleast_2d(np.asarray(attributions, dtype=np.float64))
    ok = ~np.isnan(a).any(axis=1)
    k = _k(a.shape[1], percent)
    member = np.zeros(a.shape[1], dtype=bool)
    member[np.asarray(f_d, dtype=np.int64)] = True
    sets = (order[ok, :k] if order is not None else top_set(a[ok], percent)) if ok.any() else np.zeros((0, k), int)
    out = np.full(len(a), np.nan)
    out[ok] = member[sets].sum(axis=1) / k
    return out


def predict(scores: np.ndarray | Sequence[float], threshold: float) -> np.ndarray:
    """The decision "x contains D": OS(x, D) > T_D (strictly)."""
    return np.asarray(scores) > threshold
