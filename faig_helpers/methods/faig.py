"""FAIG: Filter Attribution based on Integral Gradient (paper eq. 6–7), for a set 𝒟 of N ≥ 2 degradations.

With θ(α) = α·θ̄ + (1−α)·θ, L(θ, x) = Σ (f_θ(x) − y)² and
G_D = ∫₀¹ ∇_θ L(θ(α), x_D) dα ≈ Σ_k w_k ∇_θ L(θ(α_k), x_D):

    A_D(filter) = Σ_kernel |G_D ⊙ (θ̄ − θ)|                     (per image)
    score_D     = mean_images(A_D − mean_{D' ≠ D} A_{D'})

For N = 2 this is the paper's eq. 7 (blur score = −noise score). All N rankings come from one pass
over the quadrature nodes; the network is evaluated along the path with
:class:`~faig_helpers.parameter_path.ParameterPath` (no rebuild), channels-last.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import seaborn as sns
import torch
from torch import nn

from ..degradations import DatasetRoot
from .base import (ADAPTIVE_CHANGE, ADAPTIVE_DELTA, DEFAULT_QUADRATURE, DEFAULT_STEPS, Attribution, Change,
                   FilterScores, Refiner, check_finite, register)

__all__ = ["FAIG"]


@register
class FAIG(Attribution):
    """Filter Attribution based on Integral Gradient.

    >>> scores = FAIG(baseline, target).attribute(data)
    >>> scores.top("blur", 1.0)
    """

    name, label, colour = "faig", "FAIG", sns.color_palette("colorblind")[0]
    inputs = ("gt", "degraded")

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None,
                 seed: int = 0) -> None:
        super().__init__(baseline, target, device=device, seed=seed)
        self.diff = self.path.difference()  # θ̄ − θ

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module | None = None) -> dict[str, np.ndarray]:
        """Image ``i``: A (N, n_filters) for the inputs of each degradation, the relative completeness
        deltas (N,) and the nodes used."""
        return self.attribute_inputs([data.inputs[d][i] for d in data.degradations], data.gt[i], n_steps,
                                     quadrature, model, where=f"image '{data.names[i]}'")

    def attribute_inputs(self, xs: Sequence[torch.Tensor], gt: torch.Tensor, n_steps: int = DEFAULT_STEPS,
                         quadrature: str = DEFAULT_QUADRATURE, model: nn.Module | None = None,
                         where: str = "input") -> dict[str, np.ndarray]:
        """A_x = Σ_kernel |G_x ⊙ (θ̄ − θ)| for each input x against ``gt``: 'A' (len(xs), n_filters), the
        relative completeness delta of each, 'delta' (len(xs),), and the nodes used, 'nodes'."""
        path, model = self.path, model or self.path.model
        y = gt.to(self.device)
        with torch.no_grad():  # endpoint losses in float64: ΔL = L(θ̄, x) − L(θ, x)
            ends = [[((path(x, path.params(alpha), model).double() - y.double()) ** 2).sum().item() for x in xs]
                    for alpha in (1.0, 0.0)]
        change = [ends[0][d] - ends[1][d] for d in range(len(xs))]
        acc = [{n: torch.zeros_like(v) for n, v in path.theta.items()} for _ in xs]

        def deltas() -> list[float]:
            """Relative completeness delta per input: (Σ G⊙(θ̄ − θ) − ΔL) / |ΔL|."""
            totals = [sum((g * self.diff[n]).double().sum().item() for n, g in a.items()) for a in acc]
            if not all(math.isfinite(v) for v in (*totals, *change)):
                check_finite(torch.tensor([*totals, *change]), f"loss or gradient along the path for {where}")
            return [(t - c) / abs(c) if c != 0 else np.nan for t, c in zip(totals, change)]

        def per_filter(a: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.index.per_filter({n: (g * self.diff[n]).abs() for n, g in a.items()})

        moved = Change()

        def error() -> float:
            """≤ 1 once both the completeness delta and the per-filter change are within tolerance."""
            delta = float(np.nanmax(np.abs(deltas()), initial=0.0)) / ADAPTIVE_DELTA
            return max(delta, moved([per_filter(a).double().cpu().numpy() for a in acc]) / ADAPTIVE_CHANGE)

        steps = Refiner(quadrature, n_steps, error, 1.0)
        for alphas, weights, keep in steps:
            for d in acc:
                for v in d.values():
                    v.mul_(keep)
            for a, w in zip(alphas, weights):
                params = {n: v.detach().requires_grad_() for n, v in path.params(float(a)).items()}
                for d, x in enumerate(xs):
                    loss = ((path(x, params, model) - y) ** 2).sum()
                    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
                    for s, g in zip(acc[d].values(), grads):
                        if g is not None:  # a parameter the forward does not use has no gradient
                            s.add_(g, alpha=float(w))
        return dict(A=np.stack([per_filter(a).cpu().double().numpy() for a in acc]), delta=np.array(deltas()),
                    nodes=np.array(steps.nodes))

    def reduce(self, results: list[dict[str, np.ndarray]], degradations: list[str], info: dict) -> FilterScores:
        a = np.stack([r["A"] for r in results])  # (images, N, filters)
        n = len(degradations)
        per = {d: a[:, j] - a[:, [k for k in range(n) if k != j]].mean(1) for j, d in enumerate(degradations)}
        info["nodes"] = [int(r["nodes"]) for r in results if "nodes" in r]
        return FilterScores(self.name, {d: p.mean(0) for d, p in per.items()}, per,
                            np.stack([r["delta"] for r in results]), info)
