"""The one notebook set-up: from the common parameters to models, data, filter indices, rankings and
output folders.

Every notebook collects the common parameters (:class:`~faig_helpers.params.Params`, set by name in its
parameters cell or by papermill) and passes them here (minutes: it ranks)::

    lab = setup(fl.Params.from_namespace(globals()))   # or setup(pairs=None, net=None, dataset_root=None, …)
    p = lab.pair                     # the pair single-pair views show (``net``; default the first)
    p.baseline, p.target, p.index, p.data, lab.rankings[p.name]["faig"]

* ``pairs``: None = the embedded default; else name → (baseline, target), each a checkpoint path, a
  BasicSR experiment folder or an ``nn.Module``; or name → {'baseline': …, 'target': …, 'dataset_root':
  …, 'arch': {...}, 'param_key': …} — a pair may bring its own dataset root.
* ``dataset_root``: the evaluation root of every pair that names none (None: the embedded default's).
* ``degradations``: the set ranked (None: the root's own set; a root without a manifest: blur and noise).
* ``results_dir`` / ``figures_dir``: explicit value, else ``$FAIG_LAB_RESULTS_DIR`` / ``$FAIG_LAB_FIGURES_DIR``,
  else the repository's ``results/`` and ``figures/`` (:func:`~faig_helpers.layout.output_dirs`).
* ``device``: None = CUDA when available, else the CPU.
* ``methods``: None = every registered method; ``n_steps`` / ``quadrature``: None = the library defaults.
* ``precision``: of the network passes, 'fp32' (None: the default), 'bf16' or 'auto' (bf16 where native).
* ``engine``: where the images of a ranking run — None or ``'local'`` (thread pool), ``'ray'`` (a local Ray
  instance, started for each :meth:`Lab.rank` and shut down after it) or an engine object such as
  ``RayEngine(address='auto', gpus_per_task=0.25)`` (see :mod:`~faig_helpers.engines`).
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch import nn

from .archs import fit_crop
from .checkpoint import load_pair
from .degradations import DatasetRoot, load_dataset
from .engines import Engine, make_engine, open_engine
from .errors import ConfigError
from .filters import FilterIndex
from .layout import Layout, output_dirs
from .params import Params
from .methods import (DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, FilterScores, resolve_methods,
                      resolve_precision)
from .rankings import rank_all

__all__ = ["Pair", "Lab", "setup", "resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None: CUDA when available, else the CPU; a named device must exist."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}' asked for, but this PyTorch sees no CUDA device")
    return dev


@dataclass
class Pair:
    """One baseline/target pair with its evaluation data."""

    name: str
    baseline: nn.Module
    target: nn.Module
    data: DatasetRoot
    dataset_name: str
    dataset_root: Path | None = None
    info: dict = field(default_factory=dict)

    @property
    def models(self) -> tuple[nn.Module, nn.Module]:
        return self.baseline, self.target

    @property
    def index(self) -> FilterIndex:
        """The target's filters (global index ↔ (layer, out, in))."""
        if "index" not in self.info:
            self.info["index"] = _filter_index(self.target)
        return self.info["index"]

    @property
    def degradations(self) -> list[str]:
        return self.data.degradations

    @property
    def scale(self) -> int:
        return self.data.scale


def _filter_index(model: nn.Module) -> FilterIndex:
    make = getattr(FilterIndex, "from_module", None)
    return make(model) if make is not None else FilterIndex.from_state_dict(model.state_dict())


@dataclass
class Lab:
    """Everything a notebook works with; see :func:`setup`."""

    pairs: dict[str, Pair]
    net: str
    results: Path
    figures: Path
    device: torch.device
    methods: list[str]
    n_steps: int
    quadrature: str
    reuse: bool = True
    precision: str = DEFAULT_PRECISION
    rankings: dict[str, dict[str, FilterScores]] = field(default_factory=dict)
    engine: Engine | str | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.results)

    @property
    def pair(self) -> Pair:
        """The pair single-pair views show (``net``)."""
        return self.pairs[self.net]

    def rank(self, names: Sequence[str] | None = None, methods: Sequence[str] | None = None,
             reuse: bool | None = None, progress: bool = True, engine: Engine | str | None = None
             ) -> dict[str, dict[str, FilterScores]]:
        """Rank the pairs ``names`` (None: all) with ``methods`` (None: the lab's) on ``engine`` (None: the
        lab's) and keep the scores in :attr:`rankings` (see :func:`~faig_helpers.rankings.rank_all`); the
        seconds each pair took are in ``pair.info['ranking_seconds']``."""
        with open_engine(self.engine if engine is None else engine) as eng:
            for name in names or list(self.pairs):
                p = self.pairs[name]
                t0 = time.perf_counter()
                got = rank_all(p.baseline, p.target, p.data, results=self.results, net=name, dataset=p.dataset_name,
                               methods=methods or self.methods, n_steps=self.n_steps, quadrature=self.quadrature,
                               device=self.device, reuse=self.reuse if reuse is None else reuse, progress=progress,
                               engine=eng, precision=self.precision)
                p.info["ranking_seconds"] = time.perf_counter() - t0
                self.rankings.setdefault(name, {}).update(got)
        return self.rankings

    def fit_crop(self, size: int | None) -> int | None:
        """The crop size (LR pixels) every pair's network accepts for a requested ``size``: raised to the largest
        minimum input (:func:`~faig_helpers.archs.fit_crop`); None (whole images) stays None."""
        if size is None:
            return None
        return max(fit_crop(size, p.target) for p in self.pairs.values())

    def savefig(self, fig: plt.Figure, name: str) -> Path:
        """Save a figure of the series as ``figures/name`` (atomically)."""
        from .viz.style import savefig

        return savefig(fig, name, self.figures)


def _entry(name: str, entry) -> dict:
    if isinstance(entry, Mapping):
        unknown = set(entry) - {"baseline", "target", "dataset_root", "dataset_name", "arch", "param_key"}
        if unknown or not {"baseline", "target"} <= set(entry):
            raise ConfigError(f"pairs['{name}']: expected keys baseline, target and optionally dataset_root, "
                              f"dataset_name, arch, param_key; got {sorted(entry)}")
        return dict(entry)
    if isinstance(entry, (list, tuple)) and len(entry) == 2:
        return dict(baseline=entry[0], target=entry[1])
    raise ConfigError(f"pairs['{name}']: expected (baseline, target) or a dict with 'baseline' and 'target', "
                      f"got {type(entry).__name__}")


def _load(entry: dict) -> tuple[nn.Module, nn.Module]:
    b, t = entry["baseline"], entry["target"]
    if isinstance(b, nn.Module) and isinstance(t, nn.Module) and "arch" not in entry:
        from .checkpoint import check_pair

        check_pair(b.state_dict(), t.state_dict())
        return b.eval(), t.eval()
    extra = {k: entry[k] for k in ("arch", "param_key") if entry.get(k) is not None}
    return load_pair(b, t, **extra)


def setup(pairs: Mapping | Params | None = None, net: str | None = None, dataset_root: str | os.PathLike | None = None,
          dataset_name: str | None = None, degradations: Sequence[str] | None = None,
          results_dir: str | os.PathLike | None = None, figures_dir: str | os.PathLike | None = None,
          device: str | torch.device | None = None, methods: Sequence[str] | None = None,
          n_steps: int | None = None, quadrature: str | None = None, rank: bool = True, reuse: bool = True,
          progress: bool = False, precision: str | None = None, engine: Engine | str | None = None,
          images: int | None = None, crop: int | None = None) -> Lab:
    """Load every pair and its dataset, resolve the output folders and (``rank``) rank every pair with
    every method, reusing saved rankings of the same models, images and settings (``reuse``); ``pairs`` may be a
    :class:`~faig_helpers.params.Params` (the notebooks' common parameters; explicit arguments win). ``images`` /
    ``crop``: use only the first ``images`` evaluation images, centre-cropped to ``crop`` LR pixels (raised to
    what each network accepts, :func:`~faig_helpers.archs.fit_crop`), e.g. a quick look at a large network. See
    the module docstring for each parameter; a bad one raises :class:`~faig_helpers.errors.ConfigError`."""
    from .embedded import DATASET_ROOT, default_pairs

    p = Params.of_call(pairs, locals())
    entries = {n: _entry(n, e) for n, e in (default_pairs() if p.pairs is None else dict(p.pairs)).items()}
    if p.pairs is None and p.dataset_root is not None:  # the embedded models on the user's images
        for e in entries.values():
            e.pop("dataset_root", None)
    if not entries:
        raise ConfigError("pairs is empty: give at least one name → (baseline, target)")
    net = next(iter(entries)) if p.net is None else p.net
    if net not in entries:
        raise ConfigError(f"net '{net}' is not one of the pairs {list(entries)}")
    make_engine(engine)  # a bad engine name or object fails here, before any work
    results, figures = output_dirs(p.results_dir, p.figures_dir)
    loaded: dict[tuple, DatasetRoot] = {}
    out: dict[str, Pair] = {}
    for name, e in entries.items():
        root = Path(e.get("dataset_root") or p.dataset_root or DATASET_ROOT)
        key = (str(root), tuple(p.degradations or ()))
        if key not in loaded:
            loaded[key] = load_dataset(root, p.degradations)
        baseline, target = _load(e)
        data = loaded[key]
        smallest = min((x.shape for xs in data.inputs.values() for x in xs), key=lambda s: min(s[-2:]))
        fit_crop(1, target, smallest)  # images too small for the network: one line now, not a traceback later
        if images is not None or crop is not None:
            data = data.subset(images, fit_crop(crop, target, smallest))
        out[name] = Pair(name, baseline, target, data, e.get("dataset_name") or p.dataset_name or root.name, root)
    dev = resolve_device(p.device)
    lab = Lab(out, net, results, figures, dev, resolve_methods(p.methods),
              DEFAULT_STEPS if p.n_steps is None else int(p.n_steps), p.quadrature or DEFAULT_QUADRATURE, reuse,
              resolve_precision(precision or DEFAULT_PRECISION, dev), engine=engine)
    if rank:
        lab.rank(progress=progress)
    return lab
