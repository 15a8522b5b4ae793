"""Ranking files in the original layout.

``{results}/neuron-search/{net}/{dataset}/{method}/{blur,noise}_index.txt``: one integer a line,
most important filter first (what the original tools write and read). The raw scores are saved
beside them as ``{blur,noise}_score.npy``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .attribution import FilterScores
from .io_utils import atomic_save_npy, atomic_write_text

__all__ = ["RankingError", "ranking_dir", "save_rankings", "load_ranking", "load_rankings"]


class RankingError(ValueError):
    """A ranking file is missing or is not a permutation of the filters."""


def ranking_dir(results: str | os.PathLike, net: str, dataset: str, method: str) -> Path:
    return Path(results) / "neuron-search" / net / dataset / method


def save_rankings(folder: str | os.PathLike, scores: FilterScores) -> Path:
    """Write blur/noise index files and score arrays atomically into ``folder``."""
    folder = Path(folder)
    for deg in ("blur", "noise"):
        idx = scores.ranking(deg)
        atomic_write_text(folder / f"{deg}_index.txt", "\n".join(map(str, idx)) + "\n")
        atomic_save_npy(folder / f"{deg}_score.npy", getattr(scores, deg))
    return folder


def load_ranking(path: str | os.PathLike, n_filters: int | None = None) -> np.ndarray:
    """Read one ``*_index.txt``; check it is a permutation of range(n_filters) when given."""
    path = Path(path)
    if not path.is_file():
        raise RankingError(f"{path}: no such ranking file")
    try:
        idx = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except ValueError as e:
        raise RankingError(f"{path}: expected one integer a line ({e})") from None
    n = len(idx) if n_filters is None else n_filters
    if len(idx) != n or not np.array_equal(np.sort(idx), np.arange(n)):
        raise RankingError(f"{path}: expected a permutation of 0..{n - 1} ({n} filters), "
                           f"got {len(idx)} lines with values {idx.min()}..{idx.max()}")
    return idx


def load_rankings(folder: str | os.PathLike, n_filters: int | None = None) -> dict[str, np.ndarray]:
    """{'blur': ..., 'noise': ...} from a method folder."""
    return {d: load_ranking(Path(folder) / f"{d}_index.txt", n_filters) for d in ("blur", "noise")}
