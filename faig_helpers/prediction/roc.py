"""How good a score is at one yes/no decision: accuracy against a threshold, ROC, AUC, a calibrated
threshold and the confusion counts. Every rule is "predict yes ⇔ score > T"."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from ..errors import ConfigError
from .overlap import predict

__all__ = ["accuracy", "accuracy_curve", "auc", "roc_curve", "calibrate_threshold", "confusion"]

ArrayLike = np.ndarray | Sequence[float]


def _check_labels(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s, y = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(labels, dtype=bool).ravel()
    if s.shape != y.shape:
        raise ConfigError(f"{s.size} scores but {y.size} labels")
    if not s.size:
        raise ConfigError("no inputs to evaluate")
    if not np.isfinite(s).all():
        raise ConfigError(f"{int((~np.isfinite(s)).sum())} scores are NaN or infinite")
    return s, y


def accuracy(scores: ArrayLike, labels: ArrayLike, threshold: float) -> float:
    """Fraction of correct decisions: mean(1[score > T] = label)."""
    s, y = _check_labels(scores, labels)
    return float(np.mean(predict(s, threshold) == y))


def accuracy_curve(scores: ArrayLike, labels: ArrayLike, thresholds: ArrayLike) -> np.ndarray:
    """Accuracy mean(1[score > T] = label) at each threshold T."""
    s, y = _check_labels(scores, labels)
    t = np.asarray(thresholds, dtype=np.float64)
    return np.mean((s[None, :] > t[:, None]) == y[None, :], axis=1)


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve by the rank statistic (Mann–Whitney):
    AUC = (Σ rank(positives) − n₊(n₊+1)/2) / (n₊ n₋), average ranks for ties — the probability that a
    random positive scores above a random negative (ties count ½)."""
    s, y = _check_labels(scores, labels)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        raise ConfigError(f"AUC needs positives and negatives, got {n_pos} and {n_neg}")
    r = rankdata(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) of the rule score ≥ t over every distinct score t,
    from (0, 0) to (1, 1); its trapezoid area is :func:`auc`."""
    s, y = _check_labels(scores, labels)
    if y.all() or not y.any():
        raise ConfigError("a ROC curve needs positives and negatives")
    ts = np.unique(s)[::-1]
    tpr = np.concatenate([[0.0], np.mean(s[y][None, :] >= ts[:, None], axis=1)])
    fpr = np.concatenate([[0.0], np.mean(s[~y][None, :] >= ts[:, None], axis=1)])
    return fpr, tpr


def calibrate_threshold(scores: ArrayLike, labels: ArrayLike) -> float:
    """The threshold T of the rule score > T with the highest accuracy on calibration inputs: among the
    midpoints between consecutive distinct scores (and one below / above all of them), the middle one
    of those that reach the best accuracy."""
    s, y = _check_labels(scores, labels)
    u = np.unique(s)
    cand = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2, [u[-1] + 1.0]]) if u.size > 1 else \
        np.array([u[0] - 1.0, u[0]])
    acc = accuracy_curve(s, y, cand)
    best = cand[acc == acc.max()]
    return float(best[(len(best) - 1) // 2])


def confusion(scores: ArrayLike, labels: ArrayLike, threshold: float) -> dict[str, int]:
    """Counts of true/false positives/negatives of the rule score > T: tp, fn, fp, tn."""
    s, y = _check_labels(scores, labels)
    p = predict(s, threshold)
    return dict(tp=int((p & y).sum()), fn=int((~p & y).sum()), fp=int((p & ~y).sum()), tn=int((~p & ~y).sum()))
