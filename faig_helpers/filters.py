"""Filters and the global filter index.

A *filter* is one kernel ``W[a, b]`` of a conv weight, the (a, b) slice over the first two dimensions of the
weight *as stored*: (out, in/groups) for an ``nn.Conv2d`` weight (out, in/groups, kh, kw), (in, out/groups) for an
``nn.ConvTranspose2d`` weight (in, out/groups, kh, kw); whatever the kernel size (1×1, 3×3, 7×7…) and groups.
Biases and all other parameters are never filters. The global index runs over the conv weights in network
order, row-major over (a, b) within each: ``index = offset[layer] + a * shape[1] + b``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FilterIndex", "NOT_FILTERS", "top_count", "ranking_from_scores", "top_set", "jaccard", "top_jaccard",
           "top_sets_agree", "jaccard_matrix"]


def top_count(n_filters: int, percent: float) -> int:
    """Size of a top-p% filter set — the one rule used everywhere: k = ⌊n · p / 100⌋ as the original
    tools, but at least one filter for any p > 0 (p = 0 is the empty set)."""
    if not 0 <= percent <= 100:
        raise ConfigError(f"percent must be in [0, 100], got {percent}")
    return max(1, int(n_filters * percent / 100)) if percent > 0 and n_filters > 0 else 0


def ranking_from_scores(scores: np.ndarray) -> np.ndarray:
    """Filter indices sorted by descending score (stable: ties keep index order), along the last axis."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), axis=-1, kind="stable")


def top_set(scores: np.ndarray, percent: float) -> np.ndarray:
    """The top-p% filters of a score vector, most important first (k = :func:`top_count`) — the one top-k of the
    lab; for an (n, n_filters) array, each row's set, (n, k).

    >>> top_set(np.array([[0.1, 3.0, 2.0, 3.0], [4.0, 0.0, 0.0, 1.0]]), 50).tolist()   # ties: index order
    [[1, 3], [0, 3]]
    """
    scores = np.asarray(scores)
    return ranking_from_scores(scores)[..., :top_count(scores.shape[-1], percent)]


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


def jaccard_matrix(sets: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Pairwise Jaccard |A∩B| / |A∪B| of filter sets."""
    import pandas as pd

    keys = list(sets)
    return pd.DataFrame([[jaccard(sets[a], sets[b]) for b in keys] for a in keys], index=keys, columns=keys)


#: a Conv2d (or Linear) module with this attribute set to True holds no filters of its own (e.g. SPAN's
#: ``eval_conv``, a fused copy recomputed from other weights): :meth:`FilterIndex.from_module` skips it
NOT_FILTERS = "faig_not_filters"
UNITS = ("conv", "conv+linear")


@dataclass(frozen=True)
class FilterIndex:
    """Vectorised mapping between global filter indices and (parameter name, out, in).

    ``names``: the weights holding filters, in network order; ``shapes``: (out, in) per weight, ``in`` being
    in_channels / groups for a grouped conv and 1 for a Linear weight (one unit per output row);
    ``entries``: the number of values in one filter per weight (kh·kw; in_features for a Linear row);
    ``kinds``: 'conv', 'conv_transpose' or 'linear' per weight (empty: all conv).
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, int], ...]  # (out, in) per weight
    entries: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def from_module(cls, model: nn.Module, units: str = "conv") -> "FilterIndex":
        """The filters of a network: one per kernel of every ``nn.Conv2d`` and ``nn.ConvTranspose2d`` weight
        (the first two dimensions as stored), whatever its kernel size and groups, in ``named_parameters``
        order (biases, PReLU, norms, attention and Linear weights are never filters).
        ``units='conv+linear'`` also counts each output row of an ``nn.Linear``
        weight as one unit (for transformer SR networks)."""
        if units not in UNITS:
            raise ConfigError(f"units must be one of {UNITS}, got '{units}'")
        kinds: dict[int, str] = {}
        for m in model.modules():
            if getattr(m, NOT_FILTERS, False) or not isinstance(getattr(m, "weight", None), nn.Parameter):
                continue
            if isinstance(m, nn.Conv2d):
                kinds[id(m.weight)] = "conv"
            elif isinstance(m, nn.ConvTranspose2d):
                kinds[id(m.weight)] = "conv_transpose"
            elif units == "conv+linear" and isinstance(m, nn.Linear):
                kinds[id(m.weight)] = "linear"
        rows = [(n, p, kinds[id(p)]) for n, p in model.named_parameters() if id(p) in kinds]
        return cls._from_rows(rows)

    @classmethod
    def from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> "FilterIndex":
        """Fallback without the module: every 4-D ``*weight`` tensor is a conv weight, in state-dict order."""
        return cls._from_rows([(k, v, "conv") for k, v in sd.items() if k.endswith("weight") and v.ndim == 4])

    @classmethod
    def _from_rows(cls, rows: list[tuple[str, torch.Tensor, str]]) -> "FilterIndex":
        shapes = tuple((int(v.shape[0]), int(v.shape[1]) if k != "linear" else 1) for _, v, k in rows)
        entries = tuple(int(v[0, 0].numel()) if k != "linear" else int(v.shape[1]) for _, v, k in rows)
        kinds = tuple(k for *_, k in rows)
        return cls(tuple(n for n, *_ in rows), shapes, entries, () if set(kinds) <= {"conv"} else kinds)

    def kind(self, layer: int) -> str:
        """'conv', 'conv_transpose' or 'linear' for the weight at position ``layer``."""
        return self.kinds[layer] if self.kinds else "conv"

    @property
    def counts(self) -> np.ndarray:
        """Number of filters per weight (out × in)."""
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
        pos = {n: p for p, n in enumerate(self.names)}
        layer = np.asarray([pos[l] if isinstance(l, str) else l for l in np.atleast_1d(layer)], dtype=np.int64)
        n_in = np.array([i for _, i in self.shapes], dtype=np.int64)[layer]
        return self.offsets[layer] + np.asarray(out) * n_in + np.asarray(inp)

    def layer_table(self) -> list[dict]:
        """One row per weight: name, filters, first index, shape (for plots and tables)."""
        return [dict(layer=p, name=n, filters=int(c), first_index=int(f), out=o, inp=i)
                for p, (n, c, f, (o, i)) in enumerate(zip(self.names, self.counts, self.offsets, self.shapes))]

    def _rows(self, tensors: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
        """Each weight as (filters, entries): row-major over (out, in), one filter a row."""
        return [tensors[n].reshape(int(c), -1) for n, c in zip(self.names, self.counts)]

    def flatten(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Every filter's values in global order as one (n_filters, max entries) tensor; a filter with fewer
        entries than the largest (a 1×1 kernel next to 3×3 ones) is zero-padded on the right."""
        rows = self._rows(tensors)
        width = max((r.shape[1] for r in rows), default=0)
        return torch.cat([torch.nn.functional.pad(r, (0, width - r.shape[1])) for r in rows])

    def per_filter(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Σ over each filter's entries (any kernel size), in global order: (n_filters,)."""
        return torch.cat([r.sum(dim=1) for r in self._rows(tensors)])

    def masks(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        """Boolean masks per weight, True for the filters in ``index``: (a, b, 1, 1) for a conv weight,
        (out, 1) for a Linear weight — they broadcast over the kernel entries."""
        flat = torch.zeros(len(self), dtype=torch.bool)
        flat[torch.as_tensor(np.asarray(index, dtype=np.int64))] = True
        out = {}
        for p, (n, f, c, (o, i)) in enumerate(zip(self.names, self.offsets, self.counts, self.shapes)):
            out[n] = flat[f:f + c].reshape(o, i, 1, 1) if self.kind(p) != "linear" else flat[f:f + c].reshape(o, 1)
        return out
