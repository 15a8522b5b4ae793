"""Fisher importance (Fisher-weighted merging, Matena & Raffel 2022, per filter and degradation): the diagonal
empirical Fisher of the restoration loss on D's inputs at the target, weighted by the squared task vector.

    F_D = mean over images of (∇_θ L(θ, x_D))²,   L(θ, x) = Σ (f_θ(x) − y)²
    score_D(filter) = Σ_kernel F_D ⊙ (θ − θ̄)²

One forward/backward per image and degradation; the score of D is not compared with the others' (no
elimination): it says which filters D's loss is most sensitive to along the fine-tune's direction.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..colours import COLORBLIND
from ..degradations import DatasetRoot
from .base import Attribution, FilterScores
from .numerics import check_finite
from .registry import register

__all__ = ["FisherImportance"]


@register(name="fisher", label="Fisher", colour=COLORBLIND[5], order=60, inputs=("gt", "degraded"), paper=False)
class FisherImportance(Attribution):
    """Per degradation: Σ_kernel of the diagonal empirical Fisher on D's inputs at θ, times (θ − θ̄)²."""

    def settings(self, n_steps: int, quadrature: str, degradations) -> dict:
        return dict(method=self.name, degradations=list(degradations), precision=self.precision)

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module | None = None) -> dict[str, np.ndarray]:
        """Image ``i``: 'A' (N, n_filters), Σ_kernel g² ⊙ τ² for the input of each degradation."""
        path, model = self.path, model or self.path.model
        params = {n: v.detach().requires_grad_() for n, v in path.theta.items()}
        tau2 = {n: (path.theta[n] - path.theta_bar[n]) ** 2 for n in self.index.names}
        y = data.gt[i].to(self.device)
        rows = []
        for d in data.degradations:
            with self.autocast():
                out = path(data.inputs[d][i], params, model)
            loss = ((out.float() - y) ** 2).sum()
            check_finite(loss.detach(), f"loss for image '{data.names[i]}'")
            grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()), allow_unused=True)))
            rows.append(self.index.per_filter({n: (grads[n] if grads[n] is not None else torch.zeros_like(tau2[n]))
                                               ** 2 * tau2[n] for n in self.index.names}).double().cpu().numpy())
        return dict(A=np.stack(rows))

    def reduce(self, results: list[dict[str, np.ndarray]], degradations: list[str], info: dict) -> FilterScores:
        a = np.stack([r["A"] for r in results])
        per = {d: a[:, j] for j, d in enumerate(degradations)}
        return FilterScores(self.name, {d: p.mean(0) for d, p in per.items()}, per, info=info)
