"""Substitution and modulation of chosen filters (paper §4.2 "masking", supplementary Fig. 10–11).

For a set S of filters, each weight W[o, i] with (o, i) ∈ S becomes

    W_λ[o, i] = λ·θ[o, i] + (1 − λ)·θ̄[o, i]

λ = 1 is the target θ; λ = 0 **substitutes** the baseline's filters (the paper's masking); λ > 1
extrapolates. Biases and unselected filters stay the target's. :class:`FilterModulator` evaluates one
model at these weights through :class:`~faig_helpers.parameter_path.ParameterPath` (α = 1 − λ on the
set), so moving λ costs one forward pass; :func:`modulated_state_dict` builds the same weights as a
state dict (to save, or to check the modulator against). :func:`lambda_sweep` measures a λ range.

**DNI** (deep network interpolation, Real-ESRGAN's ``dni()``) moves *every* parameter instead:
θ_λ = λ·θ + (1 − λ)·θ̄ (:func:`dni_state_dict`, :meth:`FilterModulator.dni`, :func:`dni_sweep`).
:func:`matched_strength` compares the two at the same strength of one function, and
:func:`export_modulated` writes either model as a BasicSR checkpoint (``python -m faig_helpers modulate``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from .degradations import DatasetRoot, degradation
from .errors import ConfigError
from .evaluation import restore_all
from .filters import FilterIndex
from .images import to_image
from .metrics import measure
from .methods import FilterScores
from .parameter_path import ParameterPath
from .rankings import ranking_top

__all__ = ["modulated_state_dict", "FilterModulator", "lambda_sweep", "dni_state_dict", "dni_sweep", "reference_sweep",
           "matched_strength", "export_modulated"]


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


def dni_state_dict(baseline: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], lam: float
                   ) -> dict[str, torch.Tensor]:
    """Deep network interpolation (Real-ESRGAN's ``dni``): every floating tensor becomes λ·θ + (1−λ)·θ̄
    (biases and buffers included; λ = 1: the target, λ = 0: the baseline); other tensors stay the target's."""
    _check_lambda(lam)
    out = {}
    for k, t in target.items():
        if k not in baseline:
            raise ConfigError(f"dni: the baseline has no '{k}' (the target's key): not the same network")
        out[k] = lam * t + (1 - lam) * baseline[k] if t.is_floating_point() else t.clone()
    return out


def _check_lambda(lam: float) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating)) or not math.isfinite(lam):
        raise ConfigError(f"λ must be a finite number, got {lam!r}")
    return float(lam)


class FilterModulator:
    """One model whose selected filters follow λ; the set's masks are cached.

    >>> mod = FilterModulator(baseline, target)
    >>> top = np.arange(135)                              # e.g. scores.top("blur", 1.0)
    >>> out = mod.substitute(top)(x)                      # those filters from θ̄, the rest from θ
    >>> half = mod.modulate(top, 0.5)(x)                  # halfway
    >>> out.shape == half.shape == target(x).shape
    True
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

    def dni(self, lam: float) -> "FilterModulator":
        """Whole-network interpolation (DNI): every parameter λ·θ + (1−λ)·θ̄."""
        self._params, self.lam = self.path.params(1.0 - _check_lambda(lam)), float(lam)
        return self

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
                                 **measure(outs, ref[inp], data.gt, data.scale)))
            if example is not None:
                grids[deg].append(to_image(mod(example(deg))))
    mod.reset()
    return pd.DataFrame(rows), grids


def dni_sweep(mod: FilterModulator, data: DatasetRoot, lambdas: Sequence[float]) -> pd.DataFrame:
    """:func:`lambda_sweep`'s table for DNI (every parameter λ·θ + (1−λ)·θ̄; ``filters`` is 'all'):
    PSNR, output difference and colour shift to the target on the inputs of every degradation."""
    ref = {d: restore_all(mod.reset(), data[d]) for d in data.degradations}
    rows = []
    for lam in lambdas:
        mod.dni(lam)
        for inp in data.degradations:
            outs = restore_all(mod, data[inp])
            rows.append(dict(filters="all", lam=float(lam), input=degradation(inp).input,
                             **measure(outs, ref[inp], data.gt, data.scale)))
    mod.reset()
    return pd.DataFrame(rows)


def reference_sweep(mod: FilterModulator, index: np.ndarray, data: DatasetRoot, degradation_name: str,
                    lambdas: Sequence[float], references: Mapping[str, nn.Module]) -> pd.DataFrame:
    """How close modulation comes to other published models (e.g. a family's denoise levels): for FAIG
    modulation of the filters ``index`` (λ·θ + (1−λ)·θ̄ on them) and DNI (on every parameter), at each λ, the
    PSNR (dB, border = scale) of the outputs on ``degradation_name``'s inputs against each reference model's
    outputs on the same inputs ('ground truth': against the GT), averaged over images."""
    xs = data[degradation_name]
    refs = {name: restore_all(m, xs) for name, m in references.items()}
    rows = []
    for method, set_lambda in (("FAIG", lambda lam: mod.modulate(index, lam)), ("DNI", mod.dni)):
        for lam in lambdas:
            set_lambda(float(lam))
            outs = restore_all(mod, xs)
            for name, ys in {**refs, "ground truth": data.gt}.items():
                rows.append(dict(method=method, lam=float(lam), reference=name,
                                 psnr=measure([o.clamp(0, 1) for o in outs], gt=[y.clamp(0, 1) for y in ys],
                                              scale=data.scale)["psnr"]))
    mod.reset()
    return pd.DataFrame(rows)


def _crossing(lam: np.ndarray, val: np.ndarray, level: float) -> float:
    """The smallest λ in [0, 1] where the piecewise-linear curve ``val(lam)`` reaches ``level`` (NaN if never)."""
    order = np.argsort(lam)
    lam, val = lam[order], val[order]
    keep = (lam >= 0) & (lam <= 1)
    lam, val = lam[keep], val[keep]
    for k in range(len(lam)):
        if val[k] >= level:
            if k == 0:
                return float(lam[0])
            a, b = val[k - 1], val[k]
            return float(lam[k - 1] + (level - a) / (b - a) * (lam[k] - lam[k - 1]))
    return math.nan


def _interp(lam: np.ndarray, val: np.ndarray, at: float) -> float:
    order = np.argsort(lam)
    return float(np.interp(at, lam[order], val[order])) if math.isfinite(at) else math.nan


def matched_strength(filter_sweep: pd.DataFrame, whole_sweep: pd.DataFrame, degradation_name: str,
                     fraction: float = 0.5) -> dict:
    """FAIG modulation (``filter_sweep`` from :func:`lambda_sweep`: D's filters) against DNI (``whole_sweep``
    from :func:`dni_sweep`) at the same strength of D's function: the PSNR level on D's inputs
    L = P₀ + fraction·(P₁ − P₀), with P₁ the target's (λ = 1) and P₀ the higher of the two λ = 0 values, is
    reached at λ_FAIG and λ_DNI (piecewise-linear in λ, first crossing in [0, 1]); returned with each
    method's PSNR on every other input at its λ (what it keeps of the other functions). ``reason``: empty, or
    why a λ cannot be computed (its values are then NaN): the target does not restore D's inputs better than
    λ = 0 does, or a curve never reaches the level in [0, 1]."""
    if not 0 < fraction < 1:
        raise ConfigError(f"fraction must be in (0, 1), got {fraction}")
    own = degradation(degradation_name).input
    f = filter_sweep[filter_sweep.filters == degradation_name]
    if f.empty:
        raise ConfigError(f"filter_sweep has no '{degradation_name}' filter set: it has "
                          f"{sorted(set(filter_sweep.filters))}")
    curves = {"FAIG": f, "DNI": whole_sweep}

    def curve(t: pd.DataFrame, inp: str) -> tuple[np.ndarray, np.ndarray]:
        s = t[t.input == inp]
        return s.lam.to_numpy(float), s.psnr.to_numpy(float)

    ends = {m: curve(t, own) for m, t in curves.items()}
    p1 = _interp(*ends["FAIG"], 1.0)
    p0 = max(_interp(*ends[m], 0.0) for m in curves)
    level = p0 + fraction * (p1 - p0)
    out = dict(degradation=degradation_name, input=own, level=level, target=p1, reason="")
    if not p1 > p0:
        out["reason"] = (f"the target ({p1:.2f} dB) restores {own} inputs no better than λ = 0 ({p0:.2f} dB): "
                         "no strength to match")
    for m, t in curves.items():
        lam = _crossing(*ends[m], level) if p1 > p0 else math.nan
        if p1 > p0 and not math.isfinite(lam):
            out["reason"] = out["reason"] or f"{m}'s curve never reaches {level:.2f} dB for λ in [0, 1]"
        out[f"lam_{m}"] = lam
        for inp in dict.fromkeys(t.input):
            if inp != own:
                out[f"{m}_{inp}"] = _interp(*curve(t, inp), lam)
    return out


def export_modulated(baseline, target, out: str | os.PathLike, lam: float, *, degradation_name: str | None = None,
                     percent: float = 1.0, ranking=None, dni: bool = False, arch: Mapping | str | None = None
                     ) -> Path:
    """Write a modulated model as a BasicSR checkpoint (``params_ema`` and ``params``, the target's keys):
    the top-``percent``% filters of ``ranking`` (:func:`~faig_helpers.rankings.ranking_top`) for
    ``degradation_name`` become λ·θ + (1−λ)·θ̄, every other tensor the target's; with ``dni`` every floating
    tensor is λ·θ + (1−λ)·θ̄ (no ranking needed). ``baseline``/``target``: models or any checkpoint source of
    :func:`~faig_helpers.checkpoint.load_pair`."""
    from .checkpoint import load_pair, save_checkpoint

    lam = _check_lambda(lam)
    if isinstance(baseline, nn.Module) and isinstance(target, nn.Module):
        from .checkpoint import check_pair

        check_pair(baseline.state_dict(), target.state_dict())
        mb, mt = baseline, target
    else:
        mb, mt = load_pair(baseline, target, arch=arch)
    sb, st = mb.state_dict(), mt.state_dict()
    if dni:
        sd = dni_state_dict(sb, st, lam)
    else:
        if ranking is None:
            raise ConfigError("export_modulated needs a ranking (or dni=True for whole-network interpolation)")
        fi = FilterIndex.from_module(mt)
        idx = ranking_top(ranking, degradation_name, percent, len(fi))
        sd = modulated_state_dict(sb, st, idx, lam, fi)
    return save_checkpoint(out, sd, sd)
