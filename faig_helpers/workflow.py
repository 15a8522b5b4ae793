"""Notebook-level steps shared by the series: load a pair, rank with every method (reusing
rankings already saved for the same checkpoints and settings), and locate result folders."""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from .attribution import DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, FilterScores, attribute
from .checkpoint import load_pair
from .degradations import DatasetRoot
from .io_utils import atomic_write_text, tensor_digest
from .rankings import RankingError, load_rankings, ranking_dir, save_rankings

__all__ = ["file_digest", "rank_all", "Ranked"]


def file_digest(path: str | os.PathLike) -> str:
    """Short SHA-1 of a file's bytes (to tie saved rankings to the checkpoints they came from)."""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:16]


class Ranked(dict):
    """method → {'blur': index array, 'noise': index array}; ``scores`` keeps FilterScores computed now."""

    scores: dict[str, FilterScores]


def rank_all(net: str, baseline_path: str | os.PathLike, target_path: str | os.PathLike, data: DatasetRoot,
             dataset: str, results: str | os.PathLike, methods: Sequence[str] = METHODS, n_steps: int = DEFAULT_STEPS,
             quadrature: str = DEFAULT_QUADRATURE, device: str | torch.device | None = None, seed: int = 0,
             reuse: bool = True, progress: bool = True) -> Ranked:
    """Rankings of every method, saved as ``{results}/neuron-search/{net}/{dataset}/{method}/``.

    With ``reuse``, a folder whose ``meta.json`` records the same checkpoints and images (by content) and
    settings is reused instead of recomputed, and FAIG keeps per-image partial results under
    ``{results}/cache`` so an interrupted run resumes; anything else is recomputed and overwritten.
    """
    baseline, target = load_pair(baseline_path, target_path)
    images = tensor_digest(*data.gt, *data.blur, *data.noise, *data.clean)
    out = Ranked()
    out.scores = {}
    for method in methods:
        folder = ranking_dir(results, net, dataset, method)
        meta = dict(method=method, baseline=file_digest(baseline_path), target=file_digest(target_path),
                    images=[images, *data.names] if method in ("faig", "ig") else None,
                    n_steps=n_steps if method in ("faig", "ig") else None,
                    quadrature=quadrature if method in ("faig", "ig") else None,
                    seed=seed if method == "random" else None)
        meta_path = folder / "meta.json"
        if reuse and meta_path.exists() and json.loads(meta_path.read_text()) == meta:
            try:
                out[method] = load_rankings(folder)
                continue
            except RankingError:
                pass
        s = attribute(method, baseline, target, data, n_steps=n_steps, quadrature=quadrature, device=device,
                      seed=seed, progress=progress, return_convergence_delta=method == "faig",
                      cache_dir=Path(results) / "cache" if reuse else None)
        save_rankings(folder, s)
        atomic_write_text(meta_path, json.dumps(meta, indent=1))
        out.scores[method] = s
        out[method] = {"blur": s.blur_index, "noise": s.noise_index}
    return out

