"""|Δθ| (the paper's comparison): the relative change of each filter, Σ_kernel |θ − θ̄| / Σ_kernel |θ̄|;
the same ranking for every degradation."""
from __future__ import annotations


from ..colours import COLORBLIND
from .base import Attribution, FilterScores
from .registry import register

__all__ = ["AbsoluteFilterChange"]


@register
class AbsoluteFilterChange(Attribution):
    """|Δθ| baseline: per filter Σ_kernel |θ − θ̄| / Σ_kernel |θ̄|, one order for all degradations."""

    name, label, colour = "abs_filter_change", "|Δθ|", COLORBLIND[2]
    order = 30
    inputs = ()

    def reduce(self, results: list, degradations: list[str], info: dict) -> FilterScores:
        p = self.path
        num = self.index.per_filter({n: (p.theta[n] - p.theta_bar[n]).abs() for n in self.index.names})
        den = self.index.per_filter({n: p.theta_bar[n].abs() for n in self.index.names})
        score = (num.double() / den.double()).cpu().numpy()
        return FilterScores(self.name, {d: score.copy() for d in degradations}, info=info)
