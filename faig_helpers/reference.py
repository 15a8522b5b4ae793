"""A faithful re-implementation of the original FAIG loop, kept as the reference that the fast
:class:`faig_helpers.methods.FAIG` is tested and benchmarked against.

As the original ``faig.py``: for each ranking (noise first, then blur) and each image, at each of the
``total_step`` left-Riemann steps α = k/N the interpolated state dict α·θ̄ + (1 − α)·θ is built, a *new
network is constructed and loaded* with it, and one forward/backward is run per input. Conv-weight gradients
are summed, multiplied by (θ̄ − θ)/N, reduced per filter with Σ|·| over the kernel entries (any kernel size),
and the two inputs' attributions are subtracted.

Sources are checkpoint paths (or experiment folders, state dicts) or ``nn.Module`` objects. The new network
of each step is built from the inferred spec for a built-in architecture (as the original), and is a deep
copy of the loaded module otherwise (spandrel networks, the user's own modules); then ``load_state_dict``.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from .archs import ARCH_REGISTRY, build_network, describe, load_into
from .checkpoint import Source, load_pair, load_state_dict
from .filters import FilterIndex

__all__ = ["original_faig_image", "original_faig_scores"]


def _factory(source: Source, model: nn.Module, arch: Mapping | None, param_key: str | None
             ) -> Callable[[], nn.Module]:
    """How each step constructs its new network: from the spec (built-ins), else a deep copy of ``model``."""
    spec = arch
    if spec is None and not isinstance(source, nn.Module):
        sd = source if isinstance(source, Mapping) else load_state_dict(source, param_key)
        spec = describe(sd) if any(type(model) is cls for cls in ARCH_REGISTRY.values()) else None
    if spec is not None and (spec.get("type") or spec.get("arch")) in ARCH_REGISTRY:
        return lambda: build_network(spec)
    return lambda: copy.deepcopy(model)


class _Pair:
    """θ̄, θ (state dicts of the loaded pair), the conv weights holding filters, and the network factory."""

    def __init__(self, baseline: Source, target: Source, arch: Mapping | str | None, param_key: str | None) -> None:
        arch = {"type": arch} if isinstance(arch, str) else arch
        mb, mt = load_pair(baseline, target, arch=arch, param_key=param_key)
        self.theta_bar = {k: v.detach().clone() for k, v in mb.state_dict().items()}
        self.theta = {k: v.detach().clone() for k, v in mt.state_dict().items()}
        self.index = FilterIndex.from_module(mt)
        self.new_net = _factory(target, mt, arch, param_key)

    def state_at(self, alpha: float) -> dict[str, torch.Tensor]:
        return {k: alpha * self.theta_bar[k] + (1 - alpha) * t if t.is_floating_point() else t
                for k, t in self.theta.items()}


def _faig_one(pair: _Pair, img1: torch.Tensor, img2: torch.Tensor, gt: torch.Tensor, total_step: int,
              device: str | torch.device) -> np.ndarray:
    names = pair.index.names
    total1 = {k: 0.0 for k in names}
    total2 = {k: 0.0 for k in names}
    for step in range(total_step):
        alpha = step / total_step
        net = load_into(pair.new_net(), pair.state_at(alpha), f"the interpolated state dict (α = {alpha:g})")
        net = net.to(device).requires_grad_(True)
        params = dict(net.named_parameters())
        for img, total in ((img1, total1), (img2, total2)):
            net.zero_grad()
            ((net(img) - gt) ** 2).sum().backward()  # the original's MSELoss(reduction='sum')
            for k in names:
                g = params[k].grad
                total[k] = total[k] + (g.detach().clone() if g is not None else torch.zeros_like(params[k]))
    score = 0.0
    for k, (o, i) in zip(names, pair.index.shapes):
        diff = (pair.theta_bar[k] - pair.theta[k]).to(device)
        a1 = (total1[k] * diff / total_step).abs().reshape(o * i, -1).sum(dim=1)
        a2 = (total2[k] * diff / total_step).abs().reshape(o * i, -1).sum(dim=1)
        score = (a1 - a2) if isinstance(score, float) else torch.cat([score, a1 - a2])
    return score.detach().cpu().numpy()


def original_faig_image(baseline: Source, target: Source, img1: torch.Tensor, img2: torch.Tensor, gt: torch.Tensor,
                        total_step: int = 100, device: str | torch.device = "cpu", *, arch: Mapping | None = None,
                        param_key: str | None = None) -> np.ndarray:
    """The original's per-image score A_img1 − A_img2 (n_filters,), e.g. img1 = blurry, img2 = noisy."""
    pair = _Pair(baseline, target, arch, param_key)
    return _faig_one(pair, img1.to(device), img2.to(device), gt.to(device), total_step, device)


def original_faig_scores(baseline: Source, target: Source, data, total_step: int = 100,
                         device: str | torch.device = "cpu", *, arch: Mapping | None = None,
                         param_key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(score sum of D₀, score sum of D₁) over images for the first two degradations of ``data`` (blur and
    noise in the original), exactly as the original computes them: once per degradation (the other first).
    The original ranks with ``np.argsort(score)[::-1]`` of these sums (not means).
    """
    pair = _Pair(baseline, target, arch, param_key)
    d0, d1 = data.degradations[:2]
    to = lambda t: t.to(device)  # noqa: E731
    x0, x1 = data.inputs[d0], data.inputs[d1]
    sums = {d1: 0.0, d0: 0.0}
    for d, first, second in ((d1, x1, x0), (d0, x0, x1)):
        for i in range(len(data.gt)):
            sums[d] += _faig_one(pair, to(first[i]), to(second[i]), to(data.gt[i]), total_step, device)
    return sums[d0], sums[d1]
