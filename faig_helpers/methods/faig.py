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

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..colours import COLORBLIND
from ..degradations import DatasetRoot
from .base import Attribution, FilterScores
from .numerics import DEFAULT_PRECISION, check_finite
from .refine import ADAPTIVE_CHANGE, ADAPTIVE_DELTA, DEFAULT_QUADRATURE, DEFAULT_STEPS, Change, Refiner
from .registry import register

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


@register(name="faig", label="FAIG", colour=COLORBLIND[0], order=10, inputs=("gt", "degraded"))
class FAIG(Attribution):
    """Filter Attribution based on Integral Gradient.

    >>> scores = FAIG(baseline, target).attribute(data, n_steps=4, quadrature="riemann_middle", progress=False)
    >>> len(scores), len(scores.top("blur", 1.0))         # every filter ranked; the top 1 %
    (13504, 135)

    ``eliminate=False`` (ablation): score_D = mean over images of A_D, without subtracting the other
    degradations' attribution; the integral (and its adaptive stopping rule) is the same.
    """

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
        """A_x = Σ_kernel |G_x ⊙ (θ̄ − θ)| for each input x against ``gt``: 'A' (len(xs), n_filters); per input the
        completeness delta relative to |ΔL|, 'delta' = (Σ G⊙Δθ − ΔL) / |ΔL| (the field's measure), and relative to
        the attribution mass, 'delta_mass' = (Σ G⊙Δθ − ΔL) / Σ|G⊙Δθ|; the nodes used, 'nodes'; whether the
        node cap stopped the refinement before it converged, 'capped'; and whether the ranked score cancels below
        float32 noise, 'cancelled'.

        The adaptive rule refines (5, 9, 17, … nodes) until what is *ranked* is stable: for two or more inputs the
        score s_x = A_x − mean_{x' ≠ x} A_{x'} (one input: A_x itself) moves by at most ADAPTIVE_CHANGE (relative
        L1, ‖s_j − s_{j−1}‖₁ / ‖s_j‖₁) between levels, from ADAPTIVE_MIN_NODES (17) on, and every |delta_mass| is
        at most ADAPTIVE_DELTA — a scale that does not vanish where a pair barely differs on some inputs (ΔL ≈ 0),
        unlike |ΔL| — or the node cap is reached (a warning names the image). A score below ``SCORE_NOISE`` × the
        attributions it is the difference of is float32 rounding, not a ranking: it is refined to the cap and
        flagged."""
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
        change = np.array([ends[0][d] - ends[1][d] for d in range(len(xs))])
        acc = [{n: torch.zeros_like(v) for n, v in path.theta.items()} for _ in xs]

        def completeness() -> tuple[np.ndarray, np.ndarray]:
            """(Σ G⊙Δθ, Σ|G⊙Δθ|) per input, float64."""
            prods = [[(g * self.diff[n]).double() for n, g in a.items()] for a in acc]
            totals = np.array([float(sum(p.sum() for p in ps)) for ps in prods])
            mass = np.array([float(sum(p.abs().sum() for p in ps)) for ps in prods])
            if not np.isfinite(np.concatenate([totals, mass, change])).all():
                check_finite(torch.tensor([*totals, *change]), f"loss or gradient along the path for {where}")
            return totals, mass

        def per_filter(a: dict[str, torch.Tensor]) -> np.ndarray:
            return self.index.per_filter({n: (g * self.diff[n]).abs() for n, g in a.items()}).double().cpu().numpy()

        moved, state = Change(), {"cancelled": False, "error": np.inf}

        def error() -> float:
            """≤ 1 once the completeness errors and the change of the ranked scores are within tolerance."""
            totals, mass = completeness()
            delta = float(np.max(np.abs(totals - change) / np.maximum(mass, 1e-300), initial=0.0)) / ADAPTIVE_DELTA
            a = np.stack([per_filter(d) for d in acc])
            s = scores_of(a)
            state["cancelled"] = bool(np.abs(s).sum(1).min() <= SCORE_NOISE * np.abs(a).sum(1).mean())
            state["error"] = np.inf if state["cancelled"] else max(delta, moved(list(s)) / ADAPTIVE_CHANGE)
            return state["error"]

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
        capped = steps.adaptive and state["error"] > 1.0
        if state["cancelled"]:
            warnings.warn(f"FAIG: for {where} the ranked score cancels below float32 noise (|score| ≤ {SCORE_NOISE:g} "
                          f"× the attributions, {steps.nodes} nodes): the pair barely differs on these inputs, and "
                          "its ranking there is rounding noise", stacklevel=2)
        elif capped:
            warnings.warn(f"FAIG: {where} reached the node cap ({steps.nodes} nodes) before its ranked score settled "
                          f"(error {state['error']:.2f} × the tolerance): raise n_steps, or accept the "
                          f"{steps.nodes}-node result", stacklevel=2)
        totals, mass = completeness()
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.where(change != 0, (totals - change) / np.abs(change), np.nan)
        return dict(A=a, delta=delta, delta_mass=(totals - change) / np.maximum(mass, 1e-300),
                    nodes=np.array(steps.nodes), capped=np.array(capped), cancelled=np.array(state["cancelled"]))

    def reduce(self, results: list[dict[str, np.ndarray]], degradations: list[str], info: dict) -> FilterScores:
        reduce_a = scores_of if self.eliminate else np.copy
        per_img = np.stack([reduce_a(r["A"]) for r in results])  # (images, N, filters)
        per = {d: per_img[:, j] for j, d in enumerate(degradations)}
        info["nodes"] = [int(r["nodes"]) for r in results if "nodes" in r]
        info["cancelled"] = [i for i, r in enumerate(results) if bool(r.get("cancelled", False))]
        info["capped"] = [i for i, r in enumerate(results) if bool(r.get("capped", False))]
        masses = [np.abs(r["delta_mass"]).max() for r in results if "delta_mass" in r]
        info["worst_delta_mass"] = float(max(masses)) if masses else None
        return FilterScores(self.name, {d: p.mean(0) for d, p in per.items()}, per,
                            np.stack([r["delta"] for r in results]), info)
