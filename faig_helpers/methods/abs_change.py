"""|Δθ| (the paper's comparison): the relative change of each filter, Σ_kernel |θ − θ̄| / Σ_kernel |θ̄|;
the same ranking for every degradation."""
from __future__ import annotations

from ..colours import COLORBLIND
from .base import Attribution, FilterScores
from .registry import register

__all__ = ["AbsoluteFilterChange"]


@register(name="abs_filter_change", label="|Δθ|", colour=COLORBLIND[2], order=30, inputs=())
class AbsoluteFilterChange(Attribution):
    """|Δθ| baseline: per filter Σ_kernel |θ − θ̄| / Σ_kernel |θ̄|, one order for all degradations."""

    def reduce(self, results: list, degradations: list[str], info: dict) -> FilterScores:
        change = self.per_filter_l1(self.path.difference()) / self.per_filter_l1(self.path.theta_bar)
        return self.one_order(change, degradations, info)
