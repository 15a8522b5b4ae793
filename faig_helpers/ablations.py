"""The paper's ablations (notebook 07): gradient elimination, the choice of baseline, and re-training only
the discovered filter locations.

* **Elimination** (the paper's castle figure). FAIG ranks filters for D by
  score_D = mean_images(A_D − mean_{D'≠D} A_{D'}); without the elimination, score_D = mean_images(A_D).
  Both come from the same per-image attributions A: :func:`with_elimination` turns the scores of
  ``FAIG(..., eliminate=False)`` into FAIG's own, exactly.
* **Baseline choice** (the baboon figure). FAIG from the trained baseline θ̄, from a randomly initialised
  network (:func:`random_baseline`: every module's ``reset_parameters()``, seeded) and from the all-zero
  network (:func:`zero_baseline`); each set is substituted by its own baseline's weights and the outputs
  measured (:func:`substitution_quality`: PSNR, output difference, colour shift, mean intensity).
* **Re-training the locations** (:func:`retrain_locations`): from θ̄, train only the top-p% filters of a
  ranking on one degradation — every other weight and every bias frozen (``train(..., trainable=)``) —
  with the same budget for every set of locations; training every parameter is the upper bound.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from .checkpoint import load_model
from .degradations import DatasetRoot, degradation
from .errors import ConfigError
from .evaluation import restore_all
from .filters import FilterIndex
from .io_utils import atomic_write_text, tensor_digest
from .metrics import measure
from .methods import FilterScores
from .methods.faig import scores_of
from .modulation import FilterModulator
from .train import TrainConfig, train

__all__ = ["with_elimination", "random_baseline", "zero_baseline", "baseline_choices", "substitution_quality",
           "train_folder", "retrain_locations"]


def with_elimination(scores: FilterScores) -> FilterScores:
    """FAIG's scores from those of ``FAIG(..., eliminate=False)`` (per image A_D): per image
    s_D = A_D − mean_{D'≠D} A_{D'}, then the mean over images — the same numbers FAIG computes itself."""
    degs = scores.degradations
    if not scores.per_image or set(scores.per_image) != set(degs):
        raise ConfigError(f"with_elimination needs the per-image attributions A_D of FAIG(..., eliminate=False); "
                          f"these {scores.method} scores have per-image values for {sorted(scores.per_image)}")
    a = np.stack([scores.per_image[d] for d in degs], axis=1)  # (images, N, filters)
    per_img = np.stack([scores_of(x) for x in a])
    per = {d: per_img[:, j] for j, d in enumerate(degs)}
    info = {k: v for k, v in scores.info.items() if k != "eliminate"}
    return FilterScores(scores.method, {d: p.mean(0) for d, p in per.items()}, per, scores.delta, info)


def random_baseline(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` re-initialised at random: ``torch.manual_seed(seed)``, then every sub-module's own
    ``reset_parameters()`` in module order (PyTorch's default initialisation of convs, PReLU, norms …); a
    parameter no module resets keeps ``model``'s value."""
    out = copy.deepcopy(model)
    torch.manual_seed(seed)
    for m in out.modules():
        reset = getattr(m, "reset_parameters", None)
        if callable(reset) and m is not out:
            reset()
    return out.eval()


def zero_baseline(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every parameter zero (buffers kept)."""
    out = copy.deepcopy(model)
    with torch.no_grad():
        for p in out.parameters():
            p.zero_()
    return out.eval()


def baseline_choices(baseline: nn.Module, target: nn.Module, seed: int = 0) -> dict[str, nn.Module]:
    """The three baselines of the ablation: 'trained' (θ̄ itself), 'random' (:func:`random_baseline` of
    the target's architecture) and 'zero' (:func:`zero_baseline`)."""
    return {"trained": baseline, "random": random_baseline(target, seed), "zero": zero_baseline(target)}


def substitution_quality(baselines: Mapping[str, nn.Module], target: nn.Module,
                         rankings: Mapping[str, FilterScores], data: DatasetRoot, percent: float = 1.0,
                         device: str | torch.device | None = None) -> pd.DataFrame:
    """For each baseline b (with its own ranking ``rankings[b]``) and degradation D: the top-``percent``% D
    filters of the target substituted by b's, restoring the inputs of every degradation. One row per
    (baseline, masked, input): psnr (dB, RGB, border = scale), output_difference and colour_shift (8-bit
    levels) to the target's outputs, mean_intensity (8-bit levels) of the outputs and intensity_change
    (mean of substituted − target output, levels: negative = darker); averaged over images."""
    rows = []
    for name, base in baselines.items():
        mod = FilterModulator(base, target, device=device)
        ref = {d: restore_all(mod.reset(), data[d]) for d in data.degradations}
        for deg in data.degradations:
            mod.substitute(rankings[name].top(deg, percent))
            for inp in data.degradations:
                outs = restore_all(mod, data[inp])
                rows.append(dict(baseline=name, masked=deg, input=degradation(inp).input, input_degradation=inp,
                                 **measure(outs, ref[inp], data.gt, data.scale),
                                 mean_intensity=float(np.mean([_levels(o).mean() for o in outs])),
                                 intensity_change=float(np.mean([(_levels(o) - _levels(r)).mean()
                                                                 for o, r in zip(outs, ref[inp])]))))
        mod.reset()
    return pd.DataFrame(rows)


def _levels(t: torch.Tensor) -> torch.Tensor:
    """An output in 8-bit levels, as saved (clipped and rounded)."""
    return (t.clamp(0, 1) * 255).round().double()


def train_folder() -> Path:
    """The folder of the embedded default's training photographs (``data/images/train``)."""
    from .embedded import TRAIN_DIR

    return TRAIN_DIR


def retrain_locations(baseline: nn.Module, locations: Mapping[str, np.ndarray | None], degradation_name: str,
                      cfg: TrainConfig, out_dir: str | os.PathLike, *, image_folder: str | os.PathLike | None = None,
                      filter_index: FilterIndex | None = None, reuse: bool = True, progress: bool = True,
                      threads: int | None = None) -> dict[str, nn.Module]:
    """Re-train the baseline on ``degradation_name`` alone (every training input degraded by it), once per
    entry of ``locations``: name → global filter indices (only those kernels learn; every other weight and
    every bias stays θ̄'s) or None (every parameter learns: the upper bound). The same ``cfg`` (budget,
    seed) for each; ``cfg.mix`` is replaced by {degradation: 1}. Checkpoints ``out_dir/{name}.pth``; with
    ``reuse`` one whose ``{name}.json`` records the same baseline, locations, images and config is loaded
    instead of retrained. ``threads``: CPU threads while training (e.g. 1: the same weights whatever the
    machine's core count; None: PyTorch's current setting), restored afterwards. Returns name → the
    trained model (EMA weights, eval mode)."""
    d = degradation(degradation_name).name
    cfg = dataclasses.replace(cfg, mix={d: 1.0}, exclusive=False)
    folder = Path(image_folder) if image_folder is not None else train_folder()
    fi = filter_index or FilterIndex.from_module(baseline)
    out_dir = Path(out_dir)
    digest = tensor_digest(*baseline.state_dict().values())
    models = {}
    for name, idx in locations.items():
        trainable = None if idx is None else fi.masks(np.asarray(idx, dtype=np.int64))
        meta = dict(baseline=digest, degradation=d, images=str(folder), config=dataclasses.asdict(cfg), threads=threads,
                    locations=None if idx is None else tensor_digest(torch.as_tensor(np.sort(np.asarray(idx)))))
        ckpt, meta_path = out_dir / f"{_safe(name)}.pth", out_dir / f"{_safe(name)}.json"
        if not (reuse and ckpt.is_file() and meta_path.is_file() and json.loads(meta_path.read_text()) == meta):
            meta_path.unlink(missing_ok=True)
            net = copy.deepcopy(baseline)
            torch.manual_seed(cfg.seed)
            before = torch.get_num_threads()
            try:
                if threads:
                    torch.set_num_threads(threads)
                train(net, folder, ckpt, cfg, progress=progress, trainable=trainable)
            finally:
                torch.set_num_threads(before)
            atomic_write_text(meta_path, json.dumps(meta, indent=1))
        models[name] = _load_like(baseline, ckpt)
    return models


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _load_like(model: nn.Module, ckpt: Path) -> nn.Module:
    """``model``'s architecture with the EMA weights of ``ckpt`` (any module, not only built-in ones)."""
    from .checkpoint import load_state_dict

    out = copy.deepcopy(model)
    try:
        out.load_state_dict(load_state_dict(ckpt))
    except RuntimeError:
        return load_model(ckpt)
    return out.eval()
