"""Rankings in the original layout, and ranking every method at once with reuse.

``{results}/neuron-search/{net}/{dataset}/{method}/{blur,noise}_index.txt``: one integer a line,
most important filter first (what the original tools write and read). The original project writes
under ``{results}/Interpret/neuron-search/…``: both are read. Beside the index files we save the raw
scores (``{blur,noise}_score.npy``), the per-image scores (``per_image.npz``) and ``meta.json``
(what they were computed from; written last, so a folder with a matching ``meta.json`` is complete).
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .attribution import DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, FilterScores
from .degradations import DEGRADATIONS, DatasetRoot
from .io_utils import atomic_path, atomic_save_npy, atomic_write_text, tensor_digest
from .errors import RankingError

__all__ = ["RankingError", "ranking_dir", "find_ranking_dir", "save_rankings", "load_ranking", "load_scores",
           "rank_all"]

#: where the original tools put ``neuron-search`` below their results folder
_LAYOUTS = ("", "Interpret")
#: marker of a folder whose files are being written
INCOMPLETE = ".incomplete"



def ranking_dir(results: str | os.PathLike, net: str, dataset: str, method: str) -> Path:
    """Where this project writes a method's rankings."""
    return Path(results) / "neuron-search" / net / dataset / method


def find_ranking_dir(results: str | os.PathLike, net: str, dataset: str, method: str) -> Path | None:
    """The first folder holding ``blur_index.txt`` in this project's or the original's layout."""
    for sub in _LAYOUTS:
        folder = Path(results) / sub / "neuron-search" / net / dataset / method
        if (folder / "blur_index.txt").is_file() and not (folder / INCOMPLETE).exists():
            return folder
    return None


def save_rankings(folder: str | os.PathLike, scores: FilterScores, meta: dict | None = None) -> Path:
    """Write index files, scores, per-image scores and ``meta.json`` into ``folder``, each atomically.
    A marker ``.incomplete`` exists while they are written, so an interrupted save is never taken
    for a complete (or a published) ranking."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / INCOMPLETE
    marker.touch()
    (folder / "meta.json").unlink(missing_ok=True)
    for deg in DEGRADATIONS:
        atomic_write_text(folder / f"{deg}_index.txt", "\n".join(map(str, scores.ranking(deg))) + "\n")
        atomic_save_npy(folder / f"{deg}_score.npy", scores.score(deg))
    if scores.per_image:
        with atomic_path(folder / "per_image.npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, **{k: v.astype(np.float32) for k, v in scores.per_image.items()},
                     **({"delta": scores.delta} if scores.delta is not None else {}))
    else:
        (folder / "per_image.npz").unlink(missing_ok=True)
    if meta is not None:
        atomic_write_text(folder / "meta.json", json.dumps(meta, indent=1))
    marker.unlink()
    return folder


def load_ranking(path: str | os.PathLike, n_filters: int | None = None) -> np.ndarray:
    """Read one ``*_index.txt``; check it is a permutation of range(n_filters) when given."""
    path = Path(path)
    if not path.is_file():
        raise RankingError(f"{path}: no such ranking file")
    try:
        idx = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except ValueError as e:
        raise RankingError(f"{path}: expected one integer a line ({e})") from None
    n = len(idx) if n_filters is None else n_filters
    if len(idx) != n or not np.array_equal(np.sort(idx), np.arange(n)):
        raise RankingError(f"{path}: expected a permutation of 0..{n - 1} ({n} filters), "
                           f"got {len(idx)} lines with values {idx.min() if len(idx) else '-'}.."
                           f"{idx.max() if len(idx) else '-'}")
    return idx


def load_scores(folder: str | os.PathLike, method: str, n_filters: int | None = None) -> FilterScores:
    """Rankings of a method folder as :class:`FilterScores`. Saved scores are used when they agree with
    the index files; otherwise (e.g. the original's published rankings, index files only) scores are
    the reversed rank n − r, which keeps the published order."""
    folder = Path(folder)
    idx = {d: load_ranking(folder / f"{d}_index.txt", n_filters) for d in DEGRADATIONS}
    scores, source = {}, "saved scores"
    for d, order in idx.items():
        s_path = folder / f"{d}_score.npy"
        s = np.load(s_path) if s_path.is_file() else None
        if s is None or len(s) != len(order) or not np.array_equal(np.argsort(-s, kind="stable"), order):
            s, source = np.empty(len(order)), "index files"
            s[order] = np.arange(len(order), 0, -1, dtype=np.float64)
        scores[d] = s
    per_image, delta = {}, None
    if (folder / "per_image.npz").is_file():
        with np.load(folder / "per_image.npz") as z:
            per_image = {d: z[d].astype(np.float64) for d in DEGRADATIONS if d in z}
            delta = z["delta"] if "delta" in z else None
    return FilterScores(method, scores["blur"], scores["noise"], per_image, delta,
                        dict(method=method, folder=str(folder), source=source))


def _meta(settings: dict, models: str, images: str | None, names: Sequence[str] | None) -> dict:
    return dict(settings, models=models, **({"images": [images, *names]} if images is not None else {}))


def rank_all(baseline: nn.Module, target: nn.Module, data: DatasetRoot | None, *, results: str | os.PathLike,
             net: str, dataset: str, methods: Sequence[str] = tuple(METHODS), n_steps: int | None = None,
             quadrature: str | None = None, device: str | torch.device | None = None, seed: int = 0,
             reuse: bool = True, progress: bool = True) -> dict[str, FilterScores]:
    """Scores of every method, saved under ``{results}/neuron-search/{net}/{dataset}/{method}/``.

    With ``reuse``: a folder whose ``meta.json`` records the same models, images (by content) and
    settings is loaded instead of recomputed; a folder of index files without ``meta.json`` (e.g. the
    original project's published rankings, also found under ``{results}/Interpret/``) is loaded as
    it is, with a note; FAIG and IG keep per-image partial results under ``{results}/cache``, so an
    interrupted run resumes. Anything else is recomputed and overwritten. ``n_steps``/``quadrature``
    None: the library defaults.
    """
    n_steps = DEFAULT_STEPS if n_steps is None else n_steps
    quadrature = DEFAULT_QUADRATURE if quadrature is None else quadrature
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown attribution method '{unknown[0]}': expected one of {list(METHODS)}")
    models = tensor_digest(*baseline.state_dict().values(), *target.state_dict().values())
    images = tensor_digest(*(t for i in range(len(data)) for t in data.image(i))) if data is not None else None
    out: dict[str, FilterScores] = {}
    for name in methods:
        method = METHODS[name](baseline, target, device=device, seed=seed)
        uses = method.uses_images
        meta = _meta(method.settings(n_steps, quadrature), models, images if uses else None,
                     data.names if uses and data is not None else None)
        if reuse:
            found = find_ranking_dir(results, net, dataset, name)
            if found is not None:
                meta_path = found / "meta.json"
                saved = json.loads(meta_path.read_text()) if meta_path.is_file() else None
                if saved is None or saved == meta:
                    try:
                        out[name] = load_scores(found, name, len(method))
                    except RankingError as e:
                        if saved is None:
                            raise
                        print(f"recomputing {name}: {e}")
                    else:
                        if saved is None:
                            print(f"{name}: loaded the rankings in {found} as they are (no meta.json: "
                                  f"computed elsewhere, e.g. published by the original project)")
                        continue
        scores = method.attribute(data, n_steps=n_steps, quadrature=quadrature, progress=progress,
                                  cache_dir=Path(results) / "cache" if reuse else None)
        scores.info["folder"] = str(save_rankings(ranking_dir(results, net, dataset, name), scores, meta))
        out[name] = scores
    return out
