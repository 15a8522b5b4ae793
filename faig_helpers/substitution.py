"""Substitution ("masking") and continuous modulation of chosen filters.

For a set S of filters, each weight W[o, i] with (o, i) ∈ S becomes

    W_λ[o, i] = λ·θ[o, i] + (1 − λ)·θ̄[o, i]

λ = 1 is the target θ, λ = 0 substitutes the baseline's filters (the paper's masking), λ > 1
extrapolates. Biases and unselected filters stay the target's. :class:`FilterModulator` keeps one
model and writes only the selected weights in place, so moving λ costs one forward pass.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from .filters import FilterIndex

__all__ = ["n_selected", "substituted_state_dict", "FilterModulator"]


def n_selected(n_filters: int, proportion: float) -> int:
    """Number of filters for a proportion in percent, as the original: int(n · p / 100)."""
    return int(n_filters * proportion / 100)


def substituted_state_dict(baseline: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
                           index: np.ndarray, lam: float = 0.0) -> dict[str, torch.Tensor]:
    """Target state dict with the filters in ``index`` set to λ·θ + (1−λ)·θ̄."""
    fi = FilterIndex.from_state_dict(target)
    masks = fi.masks(index)
    out = {k: v.clone() for k, v in target.items()}
    for name, m in masks.items():
        mixed = lam * target[name] + (1 - lam) * baseline[name]
        out[name] = torch.where(m, mixed, target[name])
    return out


class FilterModulator:
    """One reusable model whose selected filters follow λ; cached per (ranking, count).

    >>> mod = FilterModulator(baseline, target)
    >>> mod.set(blur_index[:135], lam=0.0)    # substitute the top 135 blur filters
    >>> out = mod(x)
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, device: str | torch.device | None = None):
        self.model = copy.deepcopy(target).eval().requires_grad_(False)
        if device is not None:
            self.model.to(device)
        self.device = next(self.model.parameters()).device
        self.theta = {k: v.detach().to(self.device).clone() for k, v in target.state_dict().items()}
        self.theta_bar = {k: v.detach().to(self.device).clone() for k, v in baseline.state_dict().items()}
        self.index = FilterIndex.from_state_dict(self.theta)
        self._params = dict(self.model.named_parameters())
        self._key: tuple | None = None
        self._sel: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.lam = 1.0

    def set(self, index: np.ndarray, lam: float) -> "FilterModulator":
        """Select filters ``index`` (global indices) and set them to λ·θ + (1−λ)·θ̄."""
        index = np.asarray(index, dtype=np.int64)
        key = (len(index), hash(index.tobytes()))
        if key != self._key:
            self.reset()
            layer, o, i = self.index.locate(index)
            self._sel = {}
            for pos in np.unique(layer):
                name = self.index.names[pos]
                sel = layer == pos
                self._sel[name] = (torch.as_tensor(o[sel], device=self.device), torch.as_tensor(i[sel], device=self.device))
            self._key = key
        with torch.no_grad():
            for name, (o, i) in self._sel.items():
                t, b = self.theta[name][o, i], self.theta_bar[name][o, i]
                self._params[name][o, i] = lam * t + (1 - lam) * b
        self.lam = lam
        return self

    def reset(self) -> "FilterModulator":
        """Back to the target θ."""
        with torch.no_grad():
            for name, (o, i) in self._sel.items():
                self._params[name][o, i] = self.theta[name][o, i]
        self._sel, self._key, self.lam = {}, None, 1.0
        return self

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.to(self.device)).cpu()
