"""Substitution ("masking") and continuous modulation of chosen filters.

For a set S of filters, each weight W[o, i] with (o, i) ∈ S becomes

    W_λ[o, i] = λ·θ[o, i] + (1 − λ)·θ̄[o, i]

λ = 1 is the target θ, λ = 0 substitutes the baseline's filters (the paper's masking), λ > 1
extrapolates. Biases and unselected filters stay the target's. :class:`FilterModulator` evaluates
one model at these weights through :class:`~faig_helpers.parameter_path.ParameterPath` (α = 1 − λ on
the set), so moving λ costs one forward pass.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from .filters import FilterIndex
from .parameter_path import ParameterPath

__all__ = ["substituted_state_dict", "FilterModulator"]


def substituted_state_dict(baseline: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
                           index: np.ndarray, lam: float = 0.0) -> dict[str, torch.Tensor]:
    """Target state dict with the filters in ``index`` set to λ·θ + (1−λ)·θ̄ (built directly from the
    two state dicts: the reference :class:`FilterModulator` is tested against)."""
    fi = FilterIndex.from_state_dict(target)
    masks = fi.masks(index)
    out = {k: v.clone() for k, v in target.items()}
    for name, m in masks.items():
        mixed = lam * target[name] + (1 - lam) * baseline[name]
        out[name] = torch.where(m, mixed, target[name])
    return out


class FilterModulator:
    """One model whose selected filters follow λ; the set's masks are cached.

    >>> mod = FilterModulator(baseline, target)
    >>> out = mod.set(scores.top("blur", 1.0), lam=0.0)(x)    # substitute the top-1% blur filters
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None):
        self.path = ParameterPath(baseline, target, device=device)
        self.index, self.device = self.path.index, self.path.device
        self._key: tuple | None = None
        self._masks: dict[str, torch.Tensor] = {}
        self.reset()

    def set(self, index: np.ndarray, lam: float) -> "FilterModulator":
        """Select filters ``index`` (global indices) and set them to λ·θ + (1−λ)·θ̄."""
        index = np.asarray(index, dtype=np.int64)
        key = (len(index), hash(index.tobytes()))
        if key != self._key:
            self._masks, self._key = self.path.masks(index), key
        self._params = self.path.params(1.0 - lam, self._masks)
        self.lam = float(lam)
        return self

    def reset(self) -> "FilterModulator":
        """Back to the target θ."""
        self._params, self.lam = self.path.params(0.0), 1.0
        return self

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.path(x, self._params).cpu()
