"""Rankings in the original layout, and ranking every method at once with reuse.

``{results}/neuron-search/{net}/{dataset}/{method}/{D}_index.txt`` for each degradation D of the set: one
integer a line, most important filter first (what the original tools write and read; the original
project writes under ``{results}/Interpret/neuron-search/…``: both are read, see
:class:`~faig_helpers.layout.Layout`). Beside the index files we save the raw scores
(``{D}_score.npy``), the per-image scores (``per_image.npz``) and ``meta.json`` (what they were computed
from, the degradation set included; written last, so a folder with a matching ``meta.json`` is complete).
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .degradations import PAPER_SET, DatasetRoot, degradation_set
from .engines import Engine, open_engine
from .errors import ConfigError, RankingError
from .filters import top_count
from .io_utils import atomic_path, atomic_save_npy, atomic_write_text, tensor_digest
from .layout import Layout
from .methods import (DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, Attribution, FilterScores,
                      resolve_methods)

__all__ = ["RankingError", "INCOMPLETE", "ranking_top",
           "find_ranking_dir", "save_rankings", "load_ranking", "load_scores",
           "rank_all", "models_digest", "images_digest", "ranking_meta", "reuse_ranking"]

#: marker of a folder whose files are being written
INCOMPLETE = ".incomplete"


def find_ranking_dir(layout: Layout, net: str, dataset: str, method: str, degradations: Sequence[str] = PAPER_SET
                     ) -> Path | None:
    """The first folder holding every ``{D}_index.txt`` of the set, in this project's or the original's layout."""
    for folder in layout.ranking_candidates(net, dataset, method):
        if all((folder / f"{d}_index.txt").is_file() for d in degradations) and not (folder / INCOMPLETE).exists():
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
    for deg in scores.degradations:
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


def load_scores(folder: str | os.PathLike, method: str, n_filters: int | None = None,
                degradations: Sequence[str] | None = None) -> FilterScores:
    """Rankings of a method folder as :class:`FilterScores` (``degradations``: None = every
    ``*_index.txt`` there). Saved scores are used when they agree with the index files; otherwise (e.g.
    the original's published rankings, index files only) scores are the reversed rank n − r, which keeps
    the published order."""
    folder = Path(folder)
    if degradations is None:
        found = sorted(p.name[:-len("_index.txt")] for p in folder.glob("*_index.txt"))
        degradations = [d for d in PAPER_SET if d in found] + [d for d in found if d not in PAPER_SET]
    if not degradations:
        raise RankingError(f"{folder}: no *_index.txt ranking files")
    scores, source = {}, "saved scores"
    for d in degradations:
        order = load_ranking(folder / f"{d}_index.txt", n_filters)
        s_path = folder / f"{d}_score.npy"
        s = np.load(s_path) if s_path.is_file() else None
        if s is None or len(s) != len(order) or not np.array_equal(np.argsort(-s, kind="stable"), order):
            s, source = np.empty(len(order)), "index files"
            s[order] = np.arange(len(order), 0, -1, dtype=np.float64)
        scores[d] = s
    per_image, delta = {}, None
    if (folder / "per_image.npz").is_file():
        with np.load(folder / "per_image.npz") as z:
            per_image = {d: z[d].astype(np.float64) for d in degradations if d in z}
            delta = z["delta"] if "delta" in z else None
    return FilterScores(method, scores, per_image, delta, dict(method=method, folder=str(folder), source=source))


def models_digest(baseline: nn.Module, target: nn.Module) -> str:
    """Content digest of a pair (what saved rankings are keyed on)."""
    return tensor_digest(*baseline.state_dict().values(), *target.state_dict().values())


def images_digest(data: DatasetRoot) -> str:
    """Content digest of every tensor of a dataset (what saved rankings are keyed on)."""
    return tensor_digest(*(t for i in range(len(data)) for t in data.image(i)))


def ranking_meta(method: Attribution, n_steps: int, quadrature: str, degradations: Sequence[str], models: str,
                 data: DatasetRoot | None, images: str | None) -> dict:
    """The ``meta.json`` of a ranking: the method's settings, the models' digest and (methods that use
    images) the images' digest and names."""
    uses = method.uses_images() and data is not None
    return dict(method.settings(n_steps, quadrature, degradations), models=models,
                **({"images": [images, *data.names]} if uses else {}))


def reuse_ranking(folder: Path | None, name: str, meta: dict, n_filters: int, degradations: Sequence[str],
                  unkeyed: bool = True) -> FilterScores | None:
    """The scores saved in ``folder`` when its ``meta.json`` equals ``meta`` (or, with ``unkeyed``, when it
    has none: loaded as they are, e.g. the original project's published rankings); None: recompute."""
    if folder is None:
        return None
    meta_path = folder / "meta.json"
    saved = json.loads(meta_path.read_text()) if meta_path.is_file() else None
    report = saved.pop("convergence", None) if isinstance(saved, dict) else None
    if saved is None and not unkeyed or saved is not None and saved != meta:
        return None
    try:
        scores = load_scores(folder, name, n_filters, degradations)
    except RankingError as e:
        if saved is None:
            raise
        print(f"recomputing {name}: {e}")
        return None
    if report:
        scores.info["convergence"] = report
    if saved is None:
        print(f"{name}: loaded the rankings in {folder} as they are (no meta.json: computed elsewhere, e.g. "
              f"published by the original project)")
    return scores


def rank_all(baseline: nn.Module, target: nn.Module, data: DatasetRoot | None, *, results: str | os.PathLike,
             net: str, dataset: str, methods: Sequence[str] | None = None, n_steps: int | None = None,
             quadrature: str | None = None, device: str | torch.device | None = None, seed: int = 0,
             reuse: bool = True, progress: bool = True, degradations: Sequence[str] | None = None,
             engine: Engine | str | None = None, precision: str = DEFAULT_PRECISION) -> dict[str, FilterScores]:
    """Scores of every method (None: every registered one), saved under
    ``{results}/neuron-search/{net}/{dataset}/{method}/``, for each degradation of ``data`` (or of
    ``degradations``).

    With ``reuse``: a folder whose ``meta.json`` records the same models, images (by content) and
    settings is loaded instead of recomputed; a folder of index files without ``meta.json`` (e.g. the
    original project's published rankings, also found under ``{results}/Interpret/``) is loaded as
    it is, with a note; methods that use images keep per-image partial results under ``{results}/cache``,
    so an interrupted run resumes (with any engine). Anything else is recomputed and overwritten. Without
    ``reuse`` everything is recomputed, and the per-image cache is refreshed (later runs, e.g. FAIG without
    elimination in notebook 07, reuse it).
    ``n_steps``/``quadrature`` None: the library defaults; ``engine``: where the images run (an engine,
    ``'local'`` or ``'ray'``; see :func:`~faig_helpers.engines.make_engine`).
    ``precision``: of the network passes (see :class:`~faig_helpers.methods.Attribution`).
    """
    n_steps = DEFAULT_STEPS if n_steps is None else n_steps
    quadrature = DEFAULT_QUADRATURE if quadrature is None else quadrature
    degs = degradation_set(data.degradations if data is not None and degradations is None else degradations)
    layout = Layout(results)
    models = models_digest(baseline, target)
    images = None
    if data is not None:
        data = data.select(degs)
        images = images_digest(data)
    out: dict[str, FilterScores] = {}
    with open_engine(engine) as eng:
        for name in resolve_methods(methods):
            method = METHODS[name](baseline, target, device=device, seed=seed, precision=precision)
            meta = ranking_meta(method, n_steps, quadrature, degs, models, data, images)
            if reuse:
                found = reuse_ranking(find_ranking_dir(layout, net, dataset, name, degs), name, meta, len(method),
                                      degs)
                if found is not None:
                    out[name] = found
                    continue
            scores = method.attribute(data, n_steps=n_steps, quadrature=quadrature, progress=progress,
                                      cache_dir=layout.cache, refresh=not reuse, engine=eng, degradations=degs)
            report = scores.convergence()
            scores.info["folder"] = str(save_rankings(layout.rankings(net, dataset, name), scores,
                                                      dict(meta, convergence=report) if report else meta))
            out[name] = scores
    return out


def ranking_top(ranking, degradation_name: str | None, percent: float, n_filters: int) -> np.ndarray:
    """The top-p% filters (k = :func:`~faig_helpers.filters.top_count`) of a ranking given as
    :class:`FilterScores`, an array of global indices (most important first), a ``{D}_index.txt`` file or
    a folder holding ``{degradation}_index.txt``."""
    k = top_count(n_filters, percent)
    if isinstance(ranking, FilterScores):
        if degradation_name is None:
            raise ConfigError("a FilterScores ranking needs the degradation whose filters are modulated")
        if len(ranking) != n_filters:
            raise ConfigError(f"the ranking has {len(ranking)} filters, the network {n_filters}")
        return ranking.top(degradation_name, percent)
    if isinstance(ranking, (str, os.PathLike)):
        path = Path(ranking)
        if path.is_dir():
            if degradation_name is None:
                raise ConfigError(f"{path}: a ranking folder needs the degradation (which {{D}}_index.txt)")
            path = path / f"{degradation_name}_index.txt"
        return load_ranking(path, n_filters)[:k]
    order = np.asarray(ranking, dtype=np.int64)
    if order.ndim != 1 or len(order) != n_filters or not np.array_equal(np.sort(order), np.arange(n_filters)):
        raise ConfigError(f"a ranking array must be a permutation of 0..{n_filters - 1}, got shape {order.shape}")
    return order[:k]
