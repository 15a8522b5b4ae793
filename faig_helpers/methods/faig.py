"""FAIG: Filter Attribution based on Integral Gradient (paper eq. 6–7), for a set 𝒟 of N ≥ 2 degradations.

With θ(α) = α·θ̄ + (1−α)·θ, L(θ, x) = Σ (f_θ(x) − y)² and
G_D = ∫₀¹ ∇_θ L(θ(α), x_D) dα ≈ Σ_k w_k ∇_θ L(θ(α_k), x_D):

    A_D(filter) = Σ_kernel |G_D ⊙ (θ̄ − θ)|                     (per image)
    score_D     = mean_images(A_D − mean_{D' ≠ D} A_{D'})

For N = 2 this is the paper's eq. 7 (blur score = −noise score). ``FAIG(..., eliminate=False)`` is the
ablation without the elimination of the other degradations' attribution: score_D = mean_images(A_D) (the
same per-image A, so the per-image cache is shared). All N rankings come from one pass over the
quadrature nodes; the network is evaluated along the path with
:class:`~faig_helpers.parameter_path.ParameterPath` (no rebuild), channels-last.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import seaborn as sns
import torch
from torch import nn

from ..degradations import DatasetRoot
from .base import (ADAPTIVE_CHANGE, ADAPTIVE_DELTA, DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, Attribution,
                   Change, FilterScores, Refiner, check_finite, register)

__all__ = ["FAIG", "SCORE_NOISE", "scores_of"]

#: a per-image score whose L1 norm is at most this fraction of the attributions it is the difference of is
#: float32 rounding (~1e-7 per value, summed over nodes and kernel entries), not a ranking
SCORE_NOISE = 1e-5


def scores_of(a: np.ndarray) -> np.ndarray:
    """FAIG's per-image scores from the per-input attributions A (N, n_filters): s_D = A_D − mean_{D' ≠ D} A_{D'}
    for N ≥ 2 (for N = 2, s_blur = −s_noise exactly), A itself for one input."""
    n = len(a)
    if n == 1:
        return a.copy()
    return np.stack([a[j] - a[[k for k in range(n) if k != j]].mean(0) for j in range(n)])


@register
class FAIG(Attribution):
    """Filter Attribution based on Integral Gradient.

    >>> scores = FAIG(baseline, target).attribute(data)
    >>> scores.top("blur", 1.0)

    ``eliminate=False`` (ablation): score_D = mean over images of A_D, without subtracting the other
    degradations' attribution; the integral (and its adaptive stopping rule) is the same.
    """

    name, label, colour = "faig", "FAIG", sns.color_palette("colorblind")[0]
    inputs = ("gt", "degraded")

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None,
                 seed: int = 0, precision: str = DEFAULT_PRECISION, eliminate: bool = True) -> None:
        super().__init__(baseline, target, device=device, seed=seed, precision=precision)
        self.diff = self.path.difference()  # θ̄ − θ
        self.eliminate = bool(eliminate)

    def settings(self, n_steps: int, quadrature: str, degradations: Sequence[str]) -> dict:
        base = super().settings(n_steps, quadrature, degradations)
        return base if self.eliminate else dict(base, eliminate=False)

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
        relative completeness delta of each, 'delta' (len(xs),), the nodes used, 'nodes', and whether the
        ranked score cancels below float32 noise, 'cancelled'.

        The adaptive rule refines until what is *ranked* is stable: for two or more inputs the score
        s_x = A_x − mean_{x' ≠ x} A_{x'} (one input: A_x itself) moves by at most ADAPTIVE_CHANGE (relative
        L1) between levels, and every completeness delta is at most ADAPTIVE_DELTA — or the node cap is
        reached. A score below ``SCORE_NOISE`` × the attributions it is the difference of is float32
        rounding, not a ranking: it is refined to the cap and flagged."""
        path, model = self.path, model or self.path.model
        y = gt.to(self.device)

        def loss_at(x: torch.Tensor, params: dict) -> torch.Tensor:
            with self.autocast():
                out = path(x, params, model)
            return ((out.float() - y) ** 2).sum()

        with torch.no_grad():  # endpoint losses in float64: ΔL = L(θ̄, x) − L(θ, x)
            ends = []
            for alpha in (1.0, 0.0):
                with self.autocast():
                    outs = [path(x, path.params(alpha), model) for x in xs]
                ends.append([((o.double() - y.double()) ** 2).sum().item() for o in outs])
        change = [ends[0][d] - ends[1][d] for d in range(len(xs))]
        acc = [{n: torch.zeros_like(v) for n, v in path.theta.items()} for _ in xs]

        def deltas() -> list[float]:
            """Relative completeness delta per input: (Σ G⊙(θ̄ − θ) − ΔL) / |ΔL|."""
            totals = [sum((g * self.diff[n]).double().sum().item() for n, g in a.items()) for a in acc]
            if not all(math.isfinite(v) for v in (*totals, *change)):
                check_finite(torch.tensor([*totals, *change]), f"loss or gradient along the path for {where}")
            return [(t - c) / abs(c) if c != 0 else np.nan for t, c in zip(totals, change)]

        def per_filter(a: dict[str, torch.Tensor]) -> np.ndarray:
            return self.index.per_filter({n: (g * self.diff[n]).abs() for n, g in a.items()}).double().cpu().numpy()

        moved, state = Change(), {"cancelled": False}

        def error() -> float:
            """≤ 1 once the completeness deltas and the change of the ranked scores are within tolerance."""
            delta = float(np.nanmax(np.abs(deltas()), initial=0.0)) / ADAPTIVE_DELTA
            a = np.stack([per_filter(d) for d in acc])
            s = scores_of(a)
            state["cancelled"] = bool(np.abs(s).sum(1).min() <= SCORE_NOISE * np.abs(a).sum(1).mean())
            return np.inf if state["cancelled"] else max(delta, moved(list(s)) / ADAPTIVE_CHANGE)

        steps = Refiner(quadrature, n_steps, error, 1.0)
        for alphas, weights, keep in steps:
            for d in acc:
                for v in d.values():
                    v.mul_(keep)
            for a, w in zip(alphas, weights):
                params = {n: v.detach().requires_grad_() for n, v in path.params(float(a)).items()}
                for d, x in enumerate(xs):
                    grads = torch.autograd.grad(loss_at(x, params), list(params.values()), allow_unused=True)
                    for s, g in zip(acc[d].values(), grads):
                        if g is not None:  # a parameter the forward does not use has no gradient
                            s.add_(g, alpha=float(w))
        a = np.stack([per_filter(d) for d in acc])
        if not steps.adaptive:
            s = scores_of(a)
            state["cancelled"] = bool(np.abs(s).sum(1).min() <= SCORE_NOISE * np.abs(a).sum(1).mean())
        if state["cancelled"]:
            warnings.warn(f"FAIG: for {where} the ranked score cancels below float32 noise (|score| ≤ {SCORE_NOISE:g} "
                          f"× the attributions, {steps.nodes} nodes): the pair barely differs on these inputs, and "
                          "its ranking there is rounding noise", stacklevel=2)
        return dict(A=a, delta=np.array(deltas()), nodes=np.array(steps.nodes), cancelled=np.array(state["cancelled"]))

    def reduce(self, results: list[dict[str, np.ndarray]], degradations: list[str], info: dict) -> FilterScores:
        reduce_a = scores_of if self.eliminate else np.copy
        per_img = np.stack([reduce_a(r["A"]) for r in results])  # (images, N, filters)
        per = {d: per_img[:, j] for j, d in enumerate(degradations)}
        info["nodes"] = [int(r["nodes"]) for r in results if "nodes" in r]
        info["cancelled"] = [i for i, r in enumerate(results) if bool(r.get("cancelled", False))]
        return FilterScores(self.name, {d: p.mean(0) for d, p in per.items()}, per,
                            np.stack([r["delta"] for r in results]), info)
