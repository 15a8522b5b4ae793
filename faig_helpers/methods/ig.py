"""Integrated gradients over the input (the paper's IG comparison), one ranking per degradation.

Target model only; input path x(α) = x_clean + α·(x_D − x_clean) from the clean LR image to the one
degraded by D; per filter Σ_kernel |Σ_k w_k ∇_θ Σ f_θ(x(α_k))| (no multiplication by the input
difference), averaged over images.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..colours import COLORBLIND
from ..degradations import DatasetRoot
from .base import Attribution, FilterScores
from .numerics import check_finite
from .refine import ADAPTIVE_CHANGE, Change, Refiner
from .registry import register

__all__ = ["IntegratedGradients"]


@register(name="ig", label="IG", colour=COLORBLIND[1], order=20, inputs=("clean", "degraded"))
class IntegratedGradients(Attribution):
    """IG baseline of the paper: per filter Σ_kernel |Σ_k w_k ∇_θ Σ f_θ(x(α_k))|, per degradation."""

    batch_size = 32  # path points per forward pass

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module | None = None) -> dict[str, np.ndarray]:
        """Image ``i``: 'A' (N, n_filters), one row per degradation of ``data``."""
        model = model or self.path.model
        return dict(A=np.stack([self._ig(data.clean[i], data.inputs[d][i], n_steps, quadrature, model,
                                         f"image '{data.names[i]}'") for d in data.degradations]))

    def _ig(self, x_clean: torch.Tensor, x_deg: torch.Tensor, n_steps: int, quadrature: str, model: nn.Module,
            where: str) -> np.ndarray:
        path = self.path
        params = {n: v.detach().requires_grad_() for n, v in path.theta.items()}
        x0, x1 = x_clean.to(self.device), x_deg.to(self.device)
        acc = {n: torch.zeros_like(v) for n, v in params.items()}
        moved = Change()

        def change() -> float:
            return moved([self.index.per_filter({n: t.abs() for n, t in acc.items()}).double().cpu().numpy()])

        steps = Refiner(quadrature, n_steps, change, ADAPTIVE_CHANGE)
        for alphas, weights, keep in steps:
            for t in acc.values():
                t.mul_(keep)
            for s in range(0, len(alphas), self.batch_size):
                a = torch.as_tensor(alphas[s:s + self.batch_size], dtype=x0.dtype, device=self.device)
                w = torch.as_tensor(weights[s:s + self.batch_size], dtype=x0.dtype, device=self.device)
                with self.autocast():
                    out = path(x0 + a.view(-1, 1, 1, 1) * (x1 - x0), params, model)
                loss = (out.float().sum(dim=(1, 2, 3)) * w).sum()  # Σ_k w_k Σ f(x_k): its gradient is Σ_k w_k g_k
                check_finite(loss.detach(), f"IG output for {where}")
                for t, g in zip(acc.values(), torch.autograd.grad(loss, list(params.values()), allow_unused=True)):
                    if g is not None:
                        t.add_(g)
        return self.index.per_filter({n: t.abs() for n, t in acc.items()}).cpu().double().numpy()

    def reduce(self, results: list[dict[str, np.ndarray]], degradations: list[str], info: dict) -> FilterScores:
        a = np.stack([r["A"] for r in results])
        per = {d: a[:, j] for j, d in enumerate(degradations)}
        return FilterScores(self.name, {d: p.mean(0) for d, p in per.items()}, per, info=info)
