"""The straight path in parameter space between the target θ and the baseline θ̄ — the one primitive
behind FAIG, substitution and modulation.

    θ(α)    = θ + α·(θ̄ − θ)                 FAIG's path (α = 0: target, α = 1: baseline)
    θ(α, S) = θ + α·M_S ⊙ (θ̄ − θ)           only the filters of a set S move (M_S: 1 on S's 3×3 kernels)

Substituting S (the paper's "masking") is α = 1; modulating S by λ is α = 1 − λ, i.e. W_λ = λ·θ + (1 − λ)·θ̄.
Biases are never filters and stay the target's under a mask. Values are computed with ``torch.lerp``,
which is exact at both ends, and the network is evaluated at them with
:func:`torch.func.functional_call` — one module, never rebuilt.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from .filters import FilterIndex

__all__ = ["ParameterPath"]


def _as_state(model: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    sd = dict(model.named_parameters()) if isinstance(model, nn.Module) else dict(model)
    return {k: v.detach().float() for k, v in sd.items()}


class ParameterPath:
    """θ(α) and θ(α, S) for a baseline/target pair, and the network evaluated there.

    >>> path = ParameterPath(baseline, target)
    >>> y = path(x, path.params(0.5))                       # halfway along FAIG's path
    >>> z = path(x, path.params(1.0, path.masks(np.arange(10))))   # filters 0–9 substituted
    >>> y.shape == z.shape
    True
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None,
                 channels_last: bool = False) -> None:
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.model = copy.deepcopy(target).eval().requires_grad_(False).to(self.device)
        self.channels_last = channels_last

        def put(t: torch.Tensor) -> torch.Tensor:
            t = t.to(self.device)
            return t.contiguous(memory_format=fmt) if t.ndim == 4 else t

        tt, tb = _as_state(target), _as_state(baseline)
        self.names = list(tt)
        self.theta = {n: put(tt[n]) for n in self.names}
        self.theta_bar = {n: put(tb[n]) for n in self.names}
        self.index = FilterIndex.from_module(target) if isinstance(target, nn.Module) else \
            FilterIndex.from_state_dict(self.theta)

    def difference(self) -> dict[str, torch.Tensor]:
        """θ̄ − θ per parameter."""
        return {n: self.theta_bar[n] - self.theta[n] for n in self.names}

    def masks(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        """Float masks M_S, shape (out, in, 1, 1) per conv weight: 1 for the filters in ``index``."""
        return {n: m.to(self.device, torch.float32) for n, m in self.index.masks(index).items()}

    def params(self, alpha: float, masks: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """θ(α) (all parameters) or θ(α, S) (``masks`` from :meth:`masks`; other tensors stay θ)."""
        out = {}
        for n in self.names:
            if masks is None:
                w = alpha
            elif n in masks:
                w = masks[n] * alpha
            else:
                out[n] = self.theta[n]
                continue
            out[n] = torch.lerp(self.theta[n], self.theta_bar[n], w) if alpha != 0 else self.theta[n]
        return out

    def __call__(self, x: torch.Tensor, params: Mapping[str, torch.Tensor], model: nn.Module | None = None
                 ) -> torch.Tensor:
        """f_params(x): the network evaluated at ``params`` (``model``: a replica, for threads)."""
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return functional_call(self.model if model is None else model, dict(params), (x.to(self.device),))
