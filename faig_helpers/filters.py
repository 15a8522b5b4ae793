"""Filters and the global filter index.

A *filter* is one 3×3 kernel ``W[o, i]`` of a conv weight of shape (out, in, 3, 3); biases are
never filters. The global index runs over the conv weights in state-dict order, row-major over
(o, i) within each: ``index = offset[layer] + o * in + i``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .errors import ConfigError

__all__ = ["FilterIndex", "top_count", "ranking_from_scores", "top_set", "jaccard", "top_jaccard", "top_sets_agree"]


def top_count(n_filters: int, percent: float) -> int:
    """Size of a top-p% filter set — the one rule used everywhere: k = ⌊n · p / 100⌋ as the original
    tools, but at least one filter for any p > 0 (p = 0 is the empty set)."""
    if not 0 <= percent <= 100:
        raise ConfigError(f"percent must be in [0, 100], got {percent}")
    return max(1, int(n_filters * percent / 100)) if percent > 0 and n_filters > 0 else 0


def ranking_from_scores(scores: np.ndarray) -> np.ndarray:
    """Filter indices sorted by descending score (stable: ties keep index order)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def top_set(scores: np.ndarray, percent: float) -> np.ndarray:
    """The top-p% filters of a score vector, most important first (k = :func:`top_count`)."""
    return ranking_from_scores(scores)[:top_count(len(scores), percent)]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two filter sets; two empty sets are identical (1)."""
    a, b = np.unique(np.asarray(a, dtype=np.int64)), np.unique(np.asarray(b, dtype=np.int64))
    union = np.union1d(a, b).size
    return np.intersect1d(a, b, assume_unique=True).size / union if union else 1.0


def top_jaccard(a: np.ndarray, b: np.ndarray, percent: float = 1.0) -> float:
    """Jaccard index of the top-p% sets of two score vectors."""
    return jaccard(top_set(a, percent), top_set(b, percent))


def top_sets_agree(a: np.ndarray, b: np.ndarray, percent: float = 1.0, rtol: float = 1e-4) -> bool:
    """Whether the top-p% sets of two score vectors are the same up to near-ties: filters in one set
    but not the other must score within rtol·max|score| of the k-th score in both vectors."""
    ra, rb = top_set(a, percent), top_set(b, percent)
    diff = np.setxor1d(ra, rb)
    if not diff.size:
        return True
    for s, r in ((np.asarray(a, float), ra), (np.asarray(b, float), rb)):
        if np.abs(s[diff] - s[r[-1]]).max() > rtol * np.abs(s).max():
            return False
    return True


@dataclass(frozen=True)
class FilterIndex:
    """Vectorised mapping between global filter indices and (parameter name, out, in)."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, int], ...]  # (out, in) per conv weight

    @classmethod
    def from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> "FilterIndex":
        conv = [(k, tuple(v.shape[:2])) for k, v in sd.items()
                if k.endswith("weight") and v.ndim == 4]
        return cls(tuple(k for k, _ in conv), tuple(s for _, s in conv))

    @property
    def counts(self) -> np.ndarray:
        """Number of filters per conv weight (out × in)."""
        return np.array([o * i for o, i in self.shapes], dtype=np.int64)

    @property
    def offsets(self) -> np.ndarray:
        """Global index of each layer's first filter."""
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)

    def __len__(self) -> int:
        return int(self.counts.sum())

    def locate(self, index: np.ndarray | int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Global index → (layer position, out channel, in channel), all arrays."""
        index = np.asarray(index, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise IndexError(f"filter index out of range [0, {len(self)})")
        layer = np.searchsorted(self.offsets, index, side="right") - 1
        local = index - self.offsets[layer]
        n_in = np.array([i for _, i in self.shapes], dtype=np.int64)[layer]
        return layer, local // n_in, local % n_in

    def to_names(self, index: np.ndarray | int) -> list[tuple[str, int, int]]:
        """Global index → list of (parameter name, out, in)."""
        layer, o, i = self.locate(np.atleast_1d(index))
        return [(self.names[l], int(a), int(b)) for l, a, b in zip(layer, o, i)]

    def to_index(self, layer: np.ndarray | list, out: np.ndarray, inp: np.ndarray) -> np.ndarray:
        """(layer position or parameter name, out, in) → global index."""
        layer = np.asarray([self.names.index(l) if isinstance(l, str) else l for l in np.atleast_1d(layer)])
        n_in = np.array([i for _, i in self.shapes], dtype=np.int64)[layer]
        return self.offsets[layer] + np.asarray(out) * n_in + np.asarray(inp)

    def layer_table(self) -> list[dict]:
        """One row per conv weight: name, filters, first index, shape (for plots and tables)."""
        return [dict(layer=p, name=n, filters=int(c), first_index=int(f), out=o, inp=i)
                for p, (n, c, f, (o, i)) in enumerate(zip(self.names, self.counts, self.offsets, self.shapes))]

    def flatten(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Stack the conv weights of ``tensors`` (name → (out, in, 3, 3)) into (n_filters, 9)."""
        return torch.cat([tensors[n].reshape(-1, tensors[n].shape[-2] * tensors[n].shape[-1])
                          for n in self.names])

    def per_filter(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Σ over each filter's kernel entries, in global order: (n_filters,)."""
        return torch.cat([tensors[n].sum(dim=(-2, -1)).reshape(-1) for n in self.names])

    def masks(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        """Boolean (out, in, 1, 1) masks per conv weight, True for the filters in ``index``."""
        flat = torch.zeros(len(self), dtype=torch.bool)
        flat[torch.as_tensor(np.asarray(index, dtype=np.int64))] = True
        out = {}
        for n, f, c, (o, i) in zip(self.names, self.offsets, self.counts, self.shapes):
            out[n] = flat[f:f + c].reshape(o, i, 1, 1)
        return out
