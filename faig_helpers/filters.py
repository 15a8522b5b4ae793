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

__all__ = ["FilterIndex", "top_count"]


def top_count(n_filters: int, percent: float) -> int:
    """Size of a top-p% filter set, as the original tools: k = ⌊n · p / 100⌋ (the one rule used everywhere)."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be in [0, 100], got {percent}")
    return int(n_filters * percent / 100)


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
