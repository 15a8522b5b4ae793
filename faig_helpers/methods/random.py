"""Random filters (the paper's comparison): one seeded permutation per degradation."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..colours import COLORBLIND
from .base import Attribution, FilterScores
from .registry import register

__all__ = ["RandomFilters"]


@register(name="random", label="random", colour=COLORBLIND[7], order=40, inputs=())
class RandomFilters(Attribution):
    """Random baseline: independent seeded permutations, one per degradation, drawn in the set's order."""

    def settings(self, n_steps: int, quadrature: str, degradations: Sequence[str]) -> dict:
        return dict(method=self.name, degradations=list(degradations), seed=self.seed)

    def reduce(self, results: list, degradations: list[str], info: dict) -> FilterScores:
        rng = np.random.default_rng(self.seed)
        n = len(self.index)
        # scores whose descending order is a uniformly random permutation
        return FilterScores(self.name, {d: rng.permutation(n).astype(np.float64) for d in degradations}, info=info)
