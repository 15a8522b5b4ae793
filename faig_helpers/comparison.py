"""Substitution comparison (paper §4.2, Table 1 and Fig. 5).

For each method's ranking, filter set (blur or noise) and proportion p, the top-p% filters of the
target are substituted by the baseline's; the substituted model restores the blurry and the noisy
evaluation inputs and we measure, against the target's outputs, the output difference (gradient
maps of the gray images, see :mod:`faig_helpers.metrics`) and the colour shift, and the PSNR to the
ground truth.

Substituting *blur* filters should change outputs on *blurry* inputs a lot and on noisy inputs
little; the better the method, the larger that gap.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .attribution import FilterScores
from .degradations import DEGRADATIONS, DatasetRoot
from .evaluation import restore_all
from .images import to_image, write_image
from .io_utils import atomic_save_npy, atomic_write_text
from .metrics import colour_shift, gradient_map, output_difference, psnr
from .substitution import FilterModulator

__all__ = ["compare", "save_original_layout_metrics"]


def compare(baseline: nn.Module, target: nn.Module, rankings: Mapping[str, FilterScores], data: DatasetRoot,
            proportions: Sequence[float] = (1, 3, 5, 10), mode: str = "gray",
            save: tuple[str | os.PathLike, str, str] | None = None, save_proportions: Sequence[float] | None = None,
            progress: bool = True) -> pd.DataFrame:
    """Tidy table, one row per method × proportion × substituted set (``masked``: 'blur'/'noise') ×
    input ('blurry'/'noisy'), averaged over images: filters, output_difference, colour_shift (8-bit
    levels), psnr (dB). With ``save=(results, net, dataset)`` the restored PNGs and gradient maps are
    also written in the original layout (see :func:`_save`), for ``save_proportions`` (default: all)."""
    mod = FilterModulator(baseline, target)
    scale = data.scale
    inputs = {d.input: getattr(data, d.name) for d in DEGRADATIONS.values()}
    ref_out = {lab: restore_all(mod.reset(), xs) for lab, xs in inputs.items()}
    if save is not None:
        _save(save, "targetmodel-sr", None, data.names, ref_out, mode)
    rows = []
    combos = [(m, p, d, rankings[m].top(d, p)) for m in rankings for p in proportions for d in DEGRADATIONS]
    keys = [np.sort(idx).tobytes() for *_, idx in combos]
    uses = Counter(keys)
    seen: dict[bytes, dict[str, list[torch.Tensor]]] = {}  # a set used again (e.g. 0%, 100%) is restored once
    for (method, p, deg, idx), key in zip(tqdm(combos, desc="substitution", disable=not progress, leave=False), keys):
        if key not in seen:
            mod.set(idx, 0.0)
            seen[key] = {lab: restore_all(mod, xs) for lab, xs in inputs.items()}
        for lab in inputs:
            outs = seen[key][lab]
            rows.append(dict(method=method, proportion=p, filters=len(idx), masked=deg, input=lab,
                             output_difference=float(np.mean([output_difference(o, r, mode)[0]
                                                              for o, r in zip(outs, ref_out[lab])])),
                             colour_shift=float(np.mean([colour_shift(o, r)[0] for o, r in zip(outs, ref_out[lab])])),
                             psnr=float(np.mean([psnr(o, g, scale) for o, g in zip(outs, data.gt)]))))
            if save is not None and (save_proportions is None or p in save_proportions):
                _save(save, method, (len(idx), deg), data.names, {lab: outs}, mode)
        uses[key] -= 1
        if not uses[key]:
            del seen[key]
    mod.reset()
    return pd.DataFrame(rows)


def _save(save: tuple, method: str, key: tuple | None, names: Sequence[str],
          outs: Mapping[str, list[torch.Tensor]], mode: str) -> None:
    """Restored PNGs and gradient maps in the original layout:

    {results}/masking/{net}/{dataset}/{method}/{k}kernels/{maskdeblurfilter,maskdenoisefilter}/{input}/NAME.png
    {results}/gradient/{net}/{dataset}/{method}/{k}kernels/{…}/{input}/NAME.npy
    {results}/gradient/{net}/{dataset}/targetmodel-sr/{input}/NAME.npy   (the target's outputs)
    """
    results, net, dataset = Path(save[0]), save[1], save[2]
    folder = {d.input: d.folder for d in DEGRADATIONS.values()}
    for lab, ts in outs.items():
        sub = Path(method) / folder[lab] if key is None else \
            Path(method) / f"{key[0]}kernels" / DEGRADATIONS[key[1]].mask_folder / folder[lab]
        for name, o in zip(names, ts):
            stem = Path(name).stem
            if key is not None:
                write_image(results / "masking" / net / dataset / sub / f"{stem}.png", to_image(o))
            atomic_save_npy(results / "gradient" / net / dataset / sub / f"{stem}.npy", gradient_map(o, mode)[0].numpy())


def save_original_layout_metrics(table: pd.DataFrame, results: str | os.PathLike, net: str, dataset: str) -> Path:
    """``{results}/metrics/{net}/{dataset}/{method}_{maskdeblurfilter,maskdenoisefilter}_{blur,noise}.txt``
    (one value per proportion, as the original) plus the tidy table as ``substitution.csv``."""
    folder = Path(results) / "metrics" / net / dataset
    by_input = {d.input: d.name for d in DEGRADATIONS.values()}
    for (method, deg, lab), g in table.groupby(["method", "masked", "input"]):
        g = g.sort_values("proportion")
        atomic_write_text(folder / f"{method}_{DEGRADATIONS[deg].mask_folder}_{by_input[lab]}.txt",
                          "".join(f"{v:.6f}\n" for v in g.output_difference))
    atomic_write_text(folder / "substitution.csv", table.to_csv(index=False))
    return folder
