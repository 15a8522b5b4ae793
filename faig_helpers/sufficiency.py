"""Necessary and sufficient: grafting beside substitution, and one table of every localizer's sets.

**Grafting** (sufficiency) is substitution reversed: the baseline θ̄ with the target's top-p% filters of D's
ranking (every other tensor, biases included, stays θ̄'s). On D's inputs it recovers a share of the target's
PSNR gain,

    sufficiency_D = (PSNR(graft) − PSNR(θ̄)) / (PSNR(θ) − PSNR(θ̄)),

and **substitution** (necessity, the paper's masking) loses a share of it,

    necessity_D = (PSNR(θ) − PSNR(substituted)) / (PSNR(θ) − PSNR(θ̄)),

both undefined (NaN, with the reason in ``note``) where the target gains less than ``MIN_GAIN`` dB on D's inputs
over the baseline. :func:`unit_variants` compares units of a filter set on one pair: kernels substituted (the
paper), kernels grafted, whole output channels substituted (their kernels with their bias), and kernels at λ < 1.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .comparison import specificity
from .degradations import DatasetRoot, degradation
from .evaluation import restore_all
from .filters import FilterIndex, top_count
from .metrics import measure
from .methods import FilterScores
from .modulation import FilterModulator

__all__ = ["MIN_GAIN", "graft", "localizer_table", "unit_variants", "grafted_state_dict"]

#: the least PSNR gain (dB) of the target over the baseline on D's inputs for a share of it to be defined
MIN_GAIN = 0.05


def _psnr(outs: list[torch.Tensor], data: DatasetRoot) -> float:
    return measure(outs, gt=data.gt, scale=data.scale)["psnr"]


def _inputs(data: DatasetRoot) -> list[str]:
    return (["clean"] if data.clean else []) + data.degradations


def graft(baseline: nn.Module, target: nn.Module, rankings: Mapping[str, FilterScores], data: DatasetRoot,
          proportions: Sequence[float] = (1, 5), device: str | torch.device | None = None) -> pd.DataFrame:
    """One row per method × proportion × grafted set (``grafted``: a degradation) × input (every degradation's
    and, when loaded, the clean inputs): psnr of the graft, of the baseline and of the target, ``share`` of the
    target's gain recovered (NaN where it gains < MIN_GAIN; ``note`` says so), colour shift and output difference
    to the target's outputs."""
    mod = FilterModulator(target, baseline, device=device)  # roles swapped: start from θ̄, take θ's filters
    kinds = _inputs(data)
    base_out = {d: restore_all(mod.reset(), data[d]) for d in kinds}
    with torch.no_grad():
        tgt_out = {d: restore_all(target.to(mod.device) if device else target, data[d]) for d in kinds}
    pb = {d: _psnr(base_out[d], data) for d in kinds}
    pt = {d: _psnr(tgt_out[d], data) for d in kinds}
    rows = []
    for method, scores in rankings.items():
        for p in proportions:
            for g in data.degradations:
                mod.substitute(scores.top(g, p))
                for d in kinds:
                    outs = restore_all(mod, data[d])
                    q, gain, m = _psnr(outs, data), pt[d] - pb[d], measure(outs, tgt_out[d])
                    rows.append(dict(method=method, proportion=p, grafted=g, input_degradation=d,
                                     input="clean" if d == "clean" else degradation(d).input, psnr=q,
                                     psnr_baseline=pb[d], psnr_target=pt[d],
                                     share=(q - pb[d]) / gain if gain >= MIN_GAIN else np.nan,
                                     note="" if gain >= MIN_GAIN else f"the target gains {gain:+.2f} dB here: no share",
                                     colour_shift=m["colour_shift"], output_difference=m["output_difference"]))
    mod.reset()
    return pd.DataFrame(rows)


def grafted_state_dict(baseline: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], index: np.ndarray,
                       fi: FilterIndex) -> dict[str, torch.Tensor]:
    """θ̄ with the target's filters ``index`` copied in, kernel by kernel (an independent construction of a graft)."""
    out = {k: v.detach().clone() for k, v in baseline.items()}
    for name, a, b in fi.to_names(np.asarray(index)):
        out[name][a, b] = target[name][a, b]
    return out


def localizer_table(substitution: pd.DataFrame, grafting: pd.DataFrame, seconds: Mapping[str, float] | None = None
                    ) -> pd.DataFrame:
    """One row per method × proportion × set D: ``necessity`` (share of the gain on D's inputs the substitution
    loses), ``sufficiency`` (share the graft recovers), ``specificity`` (:func:`~faig_helpers.comparison.specificity`),
    the colour shift of each on D's inputs, and the method's ranking ``seconds``. ``substitution`` is a
    :func:`~faig_helpers.comparison.compare` table (with ``psnr_lost``), ``grafting`` a :func:`graft` table."""
    spec = specificity(substitution).set_index(["method", "proportion", "masked"])
    g = grafting.set_index(["method", "proportion", "grafted", "input_degradation"])
    rows = []
    for (m, p, d), r in spec.iterrows():
        own = g.loc[(m, p, d, d)]
        gain = own.psnr_target - own.psnr_baseline
        rows.append(dict(method=m, proportion=p, set=d,
                         necessity=r.psnr_lost_own / gain if gain >= MIN_GAIN else np.nan,
                         sufficiency=own.share, specificity=r.specificity,
                         colour_substituted=r.colour_own, colour_grafted=own.colour_shift,
                         seconds=(seconds or {}).get(m, np.nan)))
    return pd.DataFrame(rows)


def _channel_state(baseline: nn.Module, target: nn.Module, fi: FilterIndex, scores: np.ndarray, k: int
                   ) -> tuple[dict[str, torch.Tensor], int]:
    """The target with whole output channels substituted — their kernels and their bias — chosen by the summed
    score of their kernels until at least ``k`` kernels are covered."""
    tb, tt = baseline.state_dict(), target.state_dict()
    candidates = []
    for pos, (name, (a, b)) in enumerate(zip(fi.names, fi.shapes)):
        s = scores[fi.offsets[pos]:fi.offsets[pos] + a * b].reshape(a, b)
        by_out = s.sum(1) if fi.kind(pos) != "conv_transpose" else s.sum(0)  # stored (in, out) when transposed
        n_in = b if fi.kind(pos) != "conv_transpose" else a
        candidates += [(float(v), name, o, n_in, fi.kind(pos)) for o, v in enumerate(by_out)]
    candidates.sort(key=lambda c: -c[0])
    out, covered = {n: v.clone() for n, v in tt.items()}, 0
    for _, name, o, n_in, kind in candidates:
        if covered >= k:
            break
        if kind == "conv_transpose":
            out[name][:, o] = tb[name][:, o]
        else:
            out[name][o] = tb[name][o]
        bias = name.removesuffix("weight") + "bias"
        if bias in out:
            out[bias][o] = tb[bias][o]
        covered += n_in
    return out, covered


def unit_variants(baseline: nn.Module, target: nn.Module, scores: FilterScores, data: DatasetRoot,
                  degradation_name: str, percent: float = 1.0, lam: float = 0.5,
                  device: str | torch.device | None = None) -> pd.DataFrame:
    """What the unit of a filter set does to colour: D's top-``percent``% set as kernels substituted (the paper),
    kernels grafted into θ̄, whole output channels substituted (kernels with bias, as many kernels), and kernels at
    λ = ``lam``; per variant and input: PSNR and the colour shift to the target (8-bit levels), and to the baseline
    for the graft."""
    fi = FilterIndex.from_module(target)
    idx = scores.top(degradation_name, percent)
    k = top_count(len(fi), percent)
    kinds = _inputs(data)
    with torch.no_grad():
        ref = {d: restore_all(target, data[d]) for d in kinds}
    variants: dict[str, callable] = {}
    sub = FilterModulator(baseline, target, device=device)
    variants["kernels substituted (the paper)"] = lambda: sub.substitute(idx)
    gr = FilterModulator(target, baseline, device=device)
    variants["kernels grafted into the baseline"] = lambda: gr.substitute(idx)
    state, covered = _channel_state(baseline, target, fi, scores.score(degradation_name), k)
    channels = copy.deepcopy(target).eval()
    channels.load_state_dict(state)
    variants[f"output channels substituted ({covered} kernels, with bias)"] = lambda: channels
    variants[f"kernels at λ = {lam:g}"] = lambda: sub.modulate(idx, lam)
    rows = []
    for label, make in variants.items():
        model = make()
        for d in kinds:
            outs = restore_all(model, data[d])
            rows.append(dict(unit=label, input="clean" if d == "clean" else degradation(d).input,
                             psnr=_psnr(outs, data), colour_shift=measure(outs, ref[d])["colour_shift"]))
    return pd.DataFrame(rows)
