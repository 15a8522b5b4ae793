"""Task-vector magnitude (TIES-merging's trim criterion, Yadav et al. 2023, per filter): the entries of the
task vector τ = θ − θ̄ with the largest magnitude carry the fine-tuned skill.

    score(filter) = Σ_kernel |θ − θ̄|        (not normalised: |Δθ| divides by Σ_kernel |θ̄|)

One ranking for every degradation; no images.
"""
from __future__ import annotations

from ..colours import COLORBLIND
from .base import Attribution, FilterScores
from .registry import register

__all__ = ["TaskVectorMagnitude"]


# paper=False: a localizer of the model-merging field, not one of the paper's comparisons
@register(name="task_vector", label="|τ| (TIES)", colour=COLORBLIND[4], order=50, inputs=(), paper=False)
class TaskVectorMagnitude(Attribution):
    """TIES's trim per filter: Σ_kernel |θ − θ̄|, one order for all degradations."""

    def reduce(self, results: list, degradations: list[str], info: dict) -> FilterScores:
        return self.one_order(self.per_filter_l1(self.path.difference()), degradations, info)
