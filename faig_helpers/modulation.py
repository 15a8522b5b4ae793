"""Substitution and modulation of chosen filters (paper §4.2 "masking", supplementary Fig. 10–11).

For a set S of filters, each weight W[o, i] with (o, i) ∈ S becomes

    W_λ[o, i] = λ·θ[o, i] + (1 − λ)·θ̄[o, i]

λ = 1 is the target θ; λ = 0 **substitutes** the baseline's filters (the paper's masking); λ > 1
extrapolates. Biases and unselected filters stay the target's. :class:`FilterModulator` evaluates one
model at these weights through :class:`~faig_helpers.parameter_path.ParameterPath` (α = 1 − λ on the
set), so moving λ costs one forward pass; :func:`modulated_state_dict` builds the same weights as a
state dict (to save, or to check the modulator against). :func:`lambda_sweep` measures a λ range.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .degradations import DatasetRoot, degradation
from .evaluation import restore_all
from .filters import FilterIndex
from .images import to_image
from .metrics import colour_shift, output_difference, psnr
from .methods import FilterScores
from .parameter_path import ParameterPath

__all__ = ["modulated_state_dict", "FilterModulator", "lambda_sweep"]


def modulated_state_dict(baseline: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
                         index: np.ndarray, lam: float = 0.0, filter_index: FilterIndex | None = None
                         ) -> dict[str, torch.Tensor]:
    """Target state dict with the filters in ``index`` set to λ·θ + (1−λ)·θ̄ (λ = 0: substituted), built
    directly from the two state dicts; ``filter_index``: which weights are filters (default: the 4-D
    ``*.weight`` tensors)."""
    fi = filter_index or FilterIndex.from_state_dict(target)
    out = {k: v.clone() for k, v in target.items()}
    for name, m in fi.masks(index).items():
        mixed = lam * target[name] + (1 - lam) * baseline[name]
        out[name] = torch.where(m, mixed, target[name])
    return out


class FilterModulator:
    """One model whose selected filters follow λ; the set's masks are cached.

    >>> mod = FilterModulator(baseline, target)
    >>> out = mod.substitute(scores.top("blur", 1.0))(x)        # the top-1% blur filters from θ̄
    >>> out = mod.modulate(scores.top("blur", 1.0), 0.5)(x)      # halfway
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None):
        self.path = ParameterPath(baseline, target, device=device)
        self.index, self.device = self.path.index, self.path.device
        self._key: tuple | None = None
        self._masks: dict[str, torch.Tensor] = {}
        self.reset()

    def modulate(self, index: np.ndarray, lam: float) -> "FilterModulator":
        """Select filters ``index`` (global indices) and set them to λ·θ + (1−λ)·θ̄."""
        index = np.asarray(index, dtype=np.int64)
        key = (len(index), hash(index.tobytes()))
        if key != self._key:
            self._masks, self._key = self.path.masks(index), key
        self._params = self.path.params(1.0 - lam, self._masks)
        self.lam = float(lam)
        return self

    def substitute(self, index: np.ndarray) -> "FilterModulator":
        """The filters ``index`` taken from the baseline (λ = 0)."""
        return self.modulate(index, 0.0)

    def reset(self) -> "FilterModulator":
        """Back to the target θ."""
        self._params, self.lam = self.path.params(0.0), 1.0
        return self

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The current weights as a state dict of the target's keys (CPU)."""
        return {k: v.detach().cpu().clone() for k, v in self._params.items()}

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.path(x, self._params).cpu()


def _mean(outs: list[torch.Tensor], refs: list[torch.Tensor], fn: Callable) -> float:
    return float(np.mean([fn(o, r) for o, r in zip(outs, refs)]))


def lambda_sweep(mod: FilterModulator, scores: FilterScores, data: DatasetRoot, lambdas: Sequence[float],
                 proportion: float = 1.0, example: Callable[[str], torch.Tensor] | None = None
                 ) -> tuple[pd.DataFrame, dict[str, list[np.ndarray]]]:
    """For each degradation's filter set and each λ: PSNR (RGB, border = scale), output difference and
    colour shift to the target, on the inputs of every degradation (averaged over images); plus, with
    ``example`` (degradation → one LR input), that input restored at each λ."""
    ref = {d: restore_all(mod.reset(), data[d]) for d in data.degradations}
    rows, grids = [], {d: [] for d in data.degradations}
    for deg in data.degradations:
        idx = scores.top(deg, proportion)
        for lam in lambdas:
            mod.modulate(idx, lam)
            for inp in data.degradations:
                outs = restore_all(mod, data[inp])
                rows.append(dict(filters=deg, lam=float(lam), input=degradation(inp).input,
                                 psnr=_mean(outs, data.gt, lambda o, g: psnr(o, g, data.scale)),
                                 output_difference=_mean(outs, ref[inp], lambda o, r: output_difference(o, r)[0]),
                                 colour_shift=_mean(outs, ref[inp], lambda o, r: colour_shift(o, r)[0])))
            if example is not None:
                grids[deg].append(to_image(mod(example(deg))))
    mod.reset()
    return pd.DataFrame(rows), grids
