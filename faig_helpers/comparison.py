"""Substitution comparison (paper §4.2, Table 1 and Fig. 5), for any set of N degradations.

For each method's ranking, degradation D and proportion p, the top-p% D-filters of the target are
substituted by the baseline's; the substituted model restores the inputs of every degradation D' of
the set and we measure, against the target's outputs, the output difference (gradient maps of the gray
images, see :mod:`faig_helpers.metrics`) and the colour shift, and the PSNR to the ground truth: the
paper's 2×2 direction table becomes N×N. Substituting D's filters should change outputs on D's inputs a
lot and on the others' little; the better the method, the larger that gap.

The paper's measure, Δ(S_D, D), rewards a set that breaks everything as much as one that removes D's function
alone; :func:`specificity` sets it beside how specific a set is — Δ(S_D, D) / max_{D' ≠ D} Δ(S_D, D') — and the
PSNR and colour each input kind loses.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .claims import Claims, fmt
from .degradations import DatasetRoot, degradation
from .evaluation import restore_all
from .images import to_image, write_image
from .io_utils import atomic_save_npy, atomic_write_text
from .layout import Layout
from .metrics import gradient_map, measure
from .methods import FilterScores
from .modulation import FilterModulator
from .viz.style import method_label

__all__ = ["compare", "table_value", "specificity", "substitution_claims", "save_original_layout_metrics"]


def compare(baseline: nn.Module, target: nn.Module, rankings: Mapping[str, FilterScores], data: DatasetRoot,
            proportions: Sequence[float] = (1, 3, 5, 10), mode: str = "gray",
            save: tuple[Layout, str, str] | None = None, save_proportions: Sequence[float] | None = None,
            progress: bool = True, device: str | torch.device | None = None) -> pd.DataFrame:
    """Tidy table, one row per method × proportion × substituted set (``masked``: a degradation name) ×
    input (``input``: its name; ``input_degradation``: the degradation), averaged over images: filters,
    output_difference, colour_shift (8-bit levels), psnr (dB, RGB, border = scale) and psnr_lost (the target's
    PSNR minus the substituted model's). With
    ``save=(layout, net, dataset)`` the restored PNGs and gradient maps are also written in the original
    layout (for ``save_proportions``, default all)."""
    mod = FilterModulator(baseline, target, device=device)
    degs = data.degradations
    ref_out = {d: restore_all(mod.reset(), data[d]) for d in degs}
    ref_psnr = {d: measure(ref_out[d], gt=data.gt, scale=data.scale)["psnr"] for d in degs}
    if save is not None:
        _save(save, "targetmodel-sr", None, data.names, ref_out, mode)
    rows = []
    combos = [(m, p, d, rankings[m].top(d, p)) for m in rankings for p in proportions for d in degs]
    keys = [np.sort(idx).tobytes() for *_, idx in combos]
    uses = Counter(keys)
    seen: dict[bytes, dict[str, list[torch.Tensor]]] = {}  # a set used again (e.g. 0%, 100%) is restored once
    for (method, p, deg, idx), key in zip(tqdm(combos, desc="substitution", disable=not progress, leave=False), keys):
        if key not in seen:
            mod.substitute(idx)
            seen[key] = {d: restore_all(mod, data[d]) for d in degs}
        for d in degs:
            outs = seen[key][d]
            row = measure(outs, ref_out[d], data.gt, data.scale, mode)
            rows.append(dict(method=method, proportion=p, filters=len(idx), masked=deg, input=degradation(d).input,
                             input_degradation=d, output_difference=row["output_difference"],
                             colour_shift=row["colour_shift"], psnr=row["psnr"], psnr_lost=ref_psnr[d] - row["psnr"]))
            if save is not None and (save_proportions is None or p in save_proportions):
                _save(save, method, (len(idx), deg), data.names, {d: outs}, mode)
        uses[key] -= 1
        if not uses[key]:
            del seen[key]
    mod.reset()
    return pd.DataFrame(rows)


def table_value(table: pd.DataFrame, method: str, masked: str, inp: str, proportion: float,
                column: str = "output_difference") -> float:
    """One value of a :func:`compare` table: ``method``'s top-``proportion``% ``masked`` set substituted, on
    the inputs of degradation ``inp``."""
    sel = ((table.method == method) & (table.masked == masked) & (table.input_degradation == inp)
           & (table.proportion == proportion))
    return table[sel][column].item()


def specificity(table: pd.DataFrame) -> pd.DataFrame:
    """One row per method × proportion × substituted set S_D of a :func:`compare` table: the paper's measure
    ``own`` = Δ(S_D, D), ``largest_other`` = max_{D' ≠ D} Δ(S_D, D'), ``specificity`` = own / largest_other (> 1:
    the set changes its own degradation's outputs most; ∞ when it changes no other output; NaN when the table
    has no other input for it), the PSNR lost on D's
    inputs and the most lost on another's (dB), and the colour shift on D's inputs and the largest on another's
    (8-bit levels)."""
    rows = []
    for (m, p, d), g in table.groupby(["method", "proportion", "masked"], sort=False):
        own, other = g[g.input_degradation == d], g[g.input_degradation != d]
        top = float(other.output_difference.max()) if len(other) else np.nan
        ratio = np.nan if np.isnan(top) else float(own.output_difference.item()) / top if top > 0 else np.inf
        rows.append(dict(method=m, proportion=p, masked=d, own=float(own.output_difference.item()), largest_other=top,
                         specificity=ratio,
                         psnr_lost_own=float(own.psnr_lost.item()) if "psnr_lost" in g else np.nan,
                         psnr_lost_other=float(other.psnr_lost.max()) if "psnr_lost" in g else np.nan,
                         colour_own=float(own.colour_shift.item()), colour_other=float(other.colour_shift.max())))
    return pd.DataFrame(rows)


def _ratio(v: float) -> str:
    return "∞ (no other output changes)" if np.isinf(v) else f"{fmt(v)}×"


def substitution_claims(table: pd.DataFrame, proportions: Sequence[float], max_colour_shift: float,
                        subject: str = "") -> Claims:
    """The paper's Table 1 claims on one pair's :func:`compare` table (with a ``faig`` ranking), for every
    proportion p and degradation D of the table, with Δ(S, D') the output difference on D' inputs when the
    set S is substituted:

    * direction: Δ(FAIG_D, D) > Δ(FAIG_D, D') for every other D' of the set;
    * FAIG first: Δ(FAIG_D, D) > Δ(M_D, D) for the best other method M;
    * FAIG most specific: Δ(FAIG_D, D) / max_{D'} Δ(FAIG_D, D') above every other method's (:func:`specificity`);
    * colour (at the smallest p): mean over D' of FAIG_D's colour shift ≤ ``max_colour_shift`` 8-bit levels."""
    others = [m for m in dict.fromkeys(table.method) if m != "faig"]
    degs = list(dict.fromkeys(table.masked))
    claims = Claims(subject)
    for p in proportions:
        for d in degs:
            D = degradation(d)
            own = table_value(table, "faig", d, d, p)
            for e in degs:
                if e != d:
                    other, E = table_value(table, "faig", d, e, p), degradation(e)
                    claims.add(f"{p:g}% {D.function} set: {D.input} > {E.input}", own > other,
                               f"{fmt(own)} vs {fmt(other)}", f"this set is not specific to the {D.function} "
                               f"function: it changes {E.input} outputs as much")
            if others:
                rival = max(others, key=lambda m: table_value(table, m, d, d, p))
                best = table_value(table, rival, d, d, p)
                claims.add(f"{p:g}% {D.function} set: FAIG first on {D.input} inputs", own > best,
                           f"FAIG {fmt(own)} vs {method_label(rival)} {fmt(best)}",
                           f"{method_label(rival)}'s set removes more of the {D.function} function here "
                           "(check its specificity: it may change every input)")
            spec = specificity(table[(table.proportion == p) & (table.masked == d)]).set_index("method")
            rivals = spec.specificity.drop("faig").dropna()
            if len(rivals) and not np.isnan(spec.specificity["faig"]):
                mine, rival = spec.specificity["faig"], rivals.idxmax()
                claims.add(f"{p:g}% {D.function} set: FAIG the most specific", mine > spec.specificity[rival],
                           f"FAIG {_ratio(mine)} vs {method_label(rival)} {_ratio(spec.specificity[rival])}",
                           f"{method_label(rival)}'s set changes {D.input} outputs more relative to the others")
    p0 = min(proportions)
    for d in degs:
        shift = np.mean([table_value(table, "faig", d, e, p0, "colour_shift") for e in degs])
        claims.add(f"{p0:g}% {degradation(d).function} set keeps colour (≤ {max_colour_shift:g} levels)",
                   shift <= max_colour_shift, f"{shift:.1f} levels",
                   "the set also carries a global colour change of the fine-tune")
    return claims


def _save(save: tuple[Layout, str, str], method: str, key: tuple | None, names: Sequence[str],
          outs: Mapping[str, list[torch.Tensor]], mode: str) -> None:
    """Restored PNGs and gradient maps in the original layout (:class:`~faig_helpers.layout.Layout`)."""
    layout, net, dataset = save
    for d, ts in outs.items():
        k, mask = (None, "") if key is None else (key[0], degradation(key[1]).mask_folder)
        grad = layout.gradient(net, dataset, method, k, mask, degradation(d).folder)
        for name, o in zip(names, ts):
            stem = name.rsplit(".", 1)[0]
            if key is not None:
                write_image(layout.masking(net, dataset, method, k, mask, degradation(d).folder) / f"{stem}.png",
                            to_image(o))
            atomic_save_npy(grad / f"{stem}.npy", gradient_map(o, mode)[0].numpy())


def save_original_layout_metrics(table: pd.DataFrame, layout: Layout, net: str, dataset: str) -> None:
    """``{results}/metrics/{net}/{dataset}/{method}_{mask folder}_{input degradation}.txt`` (one value per
    proportion, as the original) plus the tidy table as ``substitution.csv``."""
    folder = layout.metrics(net, dataset)
    for (method, deg, inp), g in table.groupby(["method", "masked", "input_degradation"]):
        g = g.sort_values("proportion")
        atomic_write_text(folder / f"{method}_{degradation(deg).mask_folder}_{inp}.txt",
                          "".join(f"{v:.6f}\n" for v in g.output_difference))
    atomic_write_text(folder / "substitution.csv", table.to_csv(index=False))
