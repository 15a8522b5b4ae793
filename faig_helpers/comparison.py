"""Substitution comparison (paper §4.2, Table 1 and Fig. 5).

For each method's ranking, filter set (blur or noise) and proportion p, the top-p% filters of the
target are substituted by the baseline's; the substituted model restores the blurry and the noisy
evaluation inputs and we measure the output difference to the target's outputs (gradient maps of
the gray images, see :mod:`faig_helpers.metrics`) and the PSNR to the ground truth.

Substituting *blur* filters should change outputs on *blurry* inputs a lot and on noisy inputs
little; the better the method, the larger that gap.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .degradations import FOLDERS, DatasetRoot
from .evaluation import restore_all
from .images import to_image, write_image
from .io_utils import atomic_save_npy, atomic_write_text
from .metrics import gradient_map, output_difference, psnr
from .substitution import FilterModulator, n_selected

__all__ = ["INPUTS", "MASKED", "compare", "save_original_layout_metrics"]

INPUTS = {"blurry": "blur", "noisy": "noise"}  # input label → DatasetRoot attribute
MASKED = {"blur": "maskdeblurfilter", "noise": "maskdenoisefilter"}  # original folder names
_INPUT_FOLDER = {"blurry": FOLDERS["blur"], "noisy": FOLDERS["noise"]}


def compare(baseline: nn.Module, target: nn.Module, rankings: Mapping[str, Mapping[str, np.ndarray]],
            data: DatasetRoot, proportions: Sequence[float] = (1, 3, 5, 10), mode: str = "gray",
            save: tuple[str | os.PathLike, str, str] | None = None, progress: bool = True) -> pd.DataFrame:
    """Tidy table: method, proportion, filters, masked, input, output_difference, psnr (one row per
    combination, averaged over images). With ``save=(results, net, dataset)`` the restored PNGs and
    gradient maps are also written in the original layout (see :func:`_save`)."""
    mod = FilterModulator(baseline, target)
    n = len(mod.index)
    inputs = {lab: getattr(data, attr) for lab, attr in INPUTS.items()}
    run = lambda xs: restore_all(mod, xs)  # noqa: E731
    ref_out = {lab: run(xs) for lab, xs in inputs.items()}
    ref_grad = {lab: [gradient_map(o, mode) for o in outs] for lab, outs in ref_out.items()}
    if save is not None:
        _save(save, "targetmodel-sr", None, data.names, ref_out, ref_grad)
    rows = []
    combos = [(m, p, d) for m in rankings for p in proportions for d in ("blur", "noise")]
    for method, p, deg in tqdm(combos, desc="substitution", disable=not progress, leave=False):
        k = n_selected(n, p)
        mod.set(rankings[method][deg][:k], 0.0)
        for lab, xs in inputs.items():
            outs = run(xs)
            diff = [float(output_difference(o, r, mode)[0]) for o, r in zip(outs, ref_out[lab])]
            rows.append(dict(method=method, proportion=p, filters=k, masked=deg, input=lab,
                             output_difference=float(np.mean(diff)),
                             psnr=float(np.mean([psnr(o, g, 2) for o, g in zip(outs, data.gt)]))))
            if save is not None:
                _save(save, method, (k, deg, lab), data.names, {lab: outs},
                      {lab: [gradient_map(o, mode) for o in outs]})
    mod.reset()
    return pd.DataFrame(rows)


def _save(save: tuple, method: str, key: tuple | None, names: Sequence[str],
          outs: Mapping[str, list[torch.Tensor]], grads: Mapping[str, list[torch.Tensor]]) -> None:
    """Restored PNGs and gradient maps in the original layout:

    {results}/masking/{net}/{dataset}/{method}/{k}kernels/{maskdeblurfilter,maskdenoisefilter}/{input}/NAME.png
    {results}/gradient/{net}/{dataset}/{method}/{k}kernels/{…}/{input}/NAME.npy
    {results}/gradient/{net}/{dataset}/targetmodel-sr/{input}/NAME.npy   (the target's outputs)
    """
    results, net, dataset = Path(save[0]), save[1], save[2]
    for lab in outs:
        if key is None:
            sub = Path(method) / _INPUT_FOLDER[lab]
        else:
            k, deg, _ = key
            sub = Path(method) / f"{k}kernels" / MASKED[deg] / _INPUT_FOLDER[lab]
        for name, o, g in zip(names, outs[lab], grads[lab]):
            stem = Path(name).stem
            if key is not None:
                write_image(results / "masking" / net / dataset / sub / f"{stem}.png", to_image(o))
            atomic_save_npy(results / "gradient" / net / dataset / sub / f"{stem}.npy", g[0].numpy())


def save_original_layout_metrics(table: pd.DataFrame, results: str | os.PathLike, net: str, dataset: str) -> Path:
    """``{results}/metrics/{net}/{dataset}/{method}_{maskdeblurfilter,maskdenoisefilter}_{blur,noise}.txt``
    (one value per proportion, as the original) plus the tidy table as ``substitution.csv``."""
    folder = Path(results) / "metrics" / net / dataset
    for (method, deg, lab), g in table.groupby(["method", "masked", "input"]):
        g = g.sort_values("proportion")
        atomic_write_text(folder / f"{method}_{MASKED[deg]}_{INPUTS[lab]}.txt",
                          "".join(f"{v:.6f}\n" for v in g.output_difference))
    atomic_write_text(folder / "substitution.csv", table.to_csv(index=False))
    return folder
