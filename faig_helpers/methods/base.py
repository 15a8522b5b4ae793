"""The attribution contract shared by every method, its result type and the method registry.

Every method is an :class:`Attribution`, built as ``Method(baseline, target, *, device=None, seed=0)`` and
run as ``.attribute(data, *, n_steps=, quadrature=, progress=, cache_dir=, engine=)``; it returns
:class:`FilterScores`: one score per filter for each degradation D of the dataset (higher = more specific
to D). Each method declares what callers need: a ``label`` and a ``colour`` for tables and figures, and
the ``inputs`` it reads from a dataset root. :data:`METHODS` maps method names to the classes; a new
method is one file with a ``@register``-decorated class.
"""
from __future__ import annotations

import contextlib
import math
import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..colours import COLORBLIND
from ..degradations import DatasetRoot, degradation_set
from ..engines import Engine, open_engine
from ..errors import AttributionError, ConfigError
from ..filters import ranking_from_scores, top_set
from ..io_utils import atomic_path, tensor_digest
from ..parameter_path import ParameterPath
from ..quadrature import ADAPTIVE, ADAPTIVE_MAX, check, refinements  # noqa: F401 (ADAPTIVE_MAX re-exported)

__all__ = ["FilterScores", "Attribution", "METHODS", "DEFAULT_PRECISION", "PRECISIONS", "native_bf16",
           "resolve_precision", "register", "method_class", "resolve_methods", "attribute",
           "Refiner", "Change", "check_finite", "DEFAULT_QUADRATURE", "DEFAULT_STEPS", "ADAPTIVE_DELTA",
           "ADAPTIVE_CHANGE", "PAPER_METHODS"]

#: default quadrature (see ``benchmarks/bench_faig.py`` and the README's speed table)
DEFAULT_QUADRATURE, DEFAULT_STEPS = ADAPTIVE, ADAPTIVE_MAX
#: the adaptive rule refines an image until what is ranked — the per-filter score — changes by at most
#: ADAPTIVE_CHANGE (relative L1) between two levels and, for FAIG, the completeness error of every input is at
#: most ADAPTIVE_DELTA of its attribution mass Σ|G ⊙ (θ̄ − θ)| (a scale that does not vanish where a pair barely
#: differs, unlike |ΔL|); scripts/explore_stopping.py and benchmarks/bench_faig.py measure the choice
ADAPTIVE_DELTA, ADAPTIVE_CHANGE = 0.005, 0.02


@dataclass
class FilterScores:
    """Per-filter scores for each degradation D of a set, plus what they were computed from.

    ``scores``: D → (n_filters,), higher = more specific to D; ``per_image``: D → (n_images, n_filters)
    per-image scores whose mean over images is the score (empty for methods that use no images);
    ``delta``: FAIG's relative completeness deltas, (n_images, N) in ``degradations`` order.
    """

    method: str
    scores: dict[str, np.ndarray]
    per_image: dict[str, np.ndarray] = field(default_factory=dict)
    delta: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.scores.values())))

    @property
    def degradations(self) -> list[str]:
        return list(self.scores)

    def score(self, degradation: str) -> np.ndarray:
        """The score vector of one degradation."""
        if degradation not in self.scores:
            raise ConfigError(f"{self.method} has no '{degradation}' ranking: it ranked {self.degradations}")
        return self.scores[degradation]

    def ranking(self, degradation: str) -> np.ndarray:
        """Filter indices, the most ``degradation``-specific first."""
        return ranking_from_scores(self.score(degradation))

    def top(self, degradation: str, percent: float) -> np.ndarray:
        """The top-p% filter set of one ranking (k from :func:`~faig_helpers.filters.top_count`)."""
        return top_set(self.score(degradation), percent)

    def convergence(self) -> dict:
        """How the integral went, from ``info`` (methods with a quadrature): nodes per image (min / median /
        max), the worst completeness error relative to the attribution mass, and the images that hit the node
        cap or whose score cancels to rounding noise; empty for methods without nodes."""
        if "convergence" in self.info:  # loaded from a results folder's meta.json
            return dict(self.info["convergence"])
        nodes = self.info.get("nodes") or []
        if not nodes:
            return {}
        names = self.info.get("images") or list(range(len(nodes)))
        return dict(nodes_min=int(min(nodes)), nodes_median=float(np.median(nodes)), nodes_max=int(max(nodes)),
                    worst_delta_mass=self.info.get("worst_delta_mass"),
                    capped=[str(names[i]) for i in self.info.get("capped", [])],
                    cancelled=[str(names[i]) for i in self.info.get("cancelled", [])])

    def summary(self) -> str:
        """One line: nodes per image (min / median / max), worst completeness error, images at the cap."""
        c = self.convergence()
        if not c:
            return f"{self.method}: no quadrature"
        worst = "n/a" if c["worst_delta_mass"] is None else f"{c['worst_delta_mass']:.1e}"
        capped = f"{len(c['capped'])} image(s) hit the cap ({', '.join(c['capped'][:3])})" if c["capped"] \
            else "no image hit the cap"
        return (f"{self.method}: nodes per image {c['nodes_min']} / {c['nodes_median']:g} / {c['nodes_max']} "
                f"(min / median / max), worst completeness error {worst} of the attribution mass, {capped}")


class Refiner:
    """Iterate over the steps of ``quadrature`` (:func:`~faig_helpers.quadrature.refinements`). For the
    adaptive rule, ``error()`` is called after every level (it may compare levels) and refinement stops
    at the first level from the second on where it is ≤ ``tolerance``. ``nodes``: the nodes used."""

    def __init__(self, quadrature: str, n_steps: int, error: Callable[[], float], tolerance: float) -> None:
        self.steps, self.error, self.tolerance = refinements(quadrature, n_steps), error, tolerance
        self.adaptive, self.nodes = quadrature == ADAPTIVE, 0

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
        for level, (alphas, weights, keep) in enumerate(self.steps):
            yield alphas, weights, keep
            self.nodes += len(alphas)
            if self.adaptive and self.error() <= self.tolerance and level >= 1:  # error() sees every level
                return


class Change:
    """Relative L1 change ‖a_now − a_before‖₁ / ‖a_now‖₁ of per-filter results between two levels
    (∞ at the first level): the trapezoid rule's own error estimate, filter by filter."""

    def __init__(self) -> None:
        self.before: list[np.ndarray] | None = None

    def __call__(self, now: list[np.ndarray]) -> float:
        before, self.before = self.before, now
        if before is None:
            return math.inf
        return max(float(np.abs(a - b).sum() / max(np.abs(a).sum(), 1e-300)) for a, b in zip(now, before))


#: the network passes' precision by default (see :func:`resolve_precision`)
DEFAULT_PRECISION = "fp32"
PRECISIONS = ("fp32", "bf16", "auto")


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bf16 natively: a CUDA device with bf16, or a CPU with AVX512-BF16 / AMX
    (elsewhere bf16 is emulated and slower than fp32)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        return bool(check is not None and check())
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32', 'bf16', or 'auto' → fp32. ``auto`` never picks bf16 where it is slower or changes the top-1% sets,
    and measured on a CPU with native bf16 (AVX512-BF16, AMX) it did both: the SRCNN-style pair ranked 1.9× slower
    (the adaptive rule refines further on bf16's noisier gradients) with top-1% Jaccard 0.89, the SRResNet pair
    1.44× faster with Jaccard 0.985 — bf16 loses gradient precision on any device, so it stays an explicit choice
    (``native_bf16`` tells where it would at least be fast)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got '{precision}'")
    return "fp32" if precision == "auto" else precision


def check_finite(t: torch.Tensor, what: str) -> None:
    """Raise :class:`AttributionError` if ``t`` holds NaN or Inf."""
    if not bool(torch.isfinite(t).all()):
        raise AttributionError(f"non-finite {what}: check the checkpoints and images for NaN/Inf "
                               f"(or too large values); no ranking was written")


class Attribution(ABC):
    """One filter-attribution method: ``Method(baseline, target, *, device=None, seed=0).attribute(data, ...)``.

    Class attributes every method declares: ``name`` (registry key, results folder), ``label`` and
    ``colour`` (tables, figures), ``inputs`` — what it reads from a dataset root: 'gt' (ground truth),
    'degraded' (the LR inputs of each degradation), 'clean' (the clean LR inputs); empty: no images.
    ``seed`` matters only for stochastic methods. Methods that use images compute them one image at a
    time (:meth:`attribute_image`), run by an engine (:mod:`~faig_helpers.engines`); with ``cache_dir``
    every image's result is saved as soon as it is done, so an interrupted run resumes, with any
    engine, and ends with the identical scores.
    """

    name: ClassVar[str]
    label: ClassVar[str] = ""
    colour: ClassVar[tuple[float, float, float] | str | None] = None
    inputs: ClassVar[tuple[str, ...]] = ("gt", "degraded")
    #: one of the paper's comparison methods (run by default) or another field's (run when named)
    paper: ClassVar[bool] = True

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None,
                 seed: int = 0, precision: str = DEFAULT_PRECISION) -> None:
        self.path = ParameterPath(baseline, target, device=device, channels_last=True)
        self.device, self.index, self.seed = self.path.device, self.path.index, seed
        self.precision = resolve_precision(precision, self.device)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The network passes' numerics: bf16 autocast for ``precision='bf16'``, plain fp32 otherwise
        (losses, gradients and their sums stay float32 / float64 either way)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def uses_images(cls) -> bool:
        return bool(cls.inputs)

    def to(self, device: str | torch.device) -> "Attribution":
        """Move the method to ``device`` in place: its path (θ, θ̄ and the network) and every tensor (or dict of
        tensors) it keeps, e.g. FAIG's θ̄ − θ. How an engine's worker puts a shipped method on its own device."""
        dev, p = torch.device(device), self.path
        p.model.to(dev)
        p.theta = {n: v.to(dev) for n, v in p.theta.items()}
        p.theta_bar = {n: v.to(dev) for n, v in p.theta_bar.items()}
        p.device = dev
        for k, v in list(vars(self).items()):
            if isinstance(v, torch.Tensor):
                setattr(self, k, v.to(dev))
            elif isinstance(v, dict) and v and all(isinstance(t, torch.Tensor) for t in v.values()):
                setattr(self, k, {n: t.to(dev) for n, t in v.items()})
        self.device = dev
        return self

    def settings(self, n_steps: int, quadrature: str, degradations: Sequence[str]) -> dict:
        """What the scores depend on besides the models and images (to key saved results)."""
        base = dict(method=self.name, degradations=list(degradations))
        if not self.uses_images():
            return base
        rule = dict(stopping=f"score change {ADAPTIVE_CHANGE}, mass delta {ADAPTIVE_DELTA}, from 5 nodes") \
            if quadrature == ADAPTIVE else {}
        return dict(base, n_steps=n_steps, quadrature=quadrature, precision=self.precision, **rule)

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module | None = None) -> dict[str, np.ndarray]:
        """Per-image arrays for image ``i`` (methods that use images); ``model``: a replica for threads."""
        raise NotImplementedError

    @abstractmethod
    def reduce(self, results: list[dict[str, np.ndarray]], degradations: list[str], info: dict) -> FilterScores:
        """Per-image arrays (image order) → :class:`FilterScores`."""

    def attribute(self, data: DatasetRoot | None = None, *, n_steps: int = DEFAULT_STEPS,
                  quadrature: str = DEFAULT_QUADRATURE, progress: bool = True,
                  cache_dir: str | os.PathLike | None = None, engine: Engine | str | None = None,
                  degradations: Sequence[str] | None = None, refresh: bool = False) -> FilterScores:
        """Scores over ``data`` for each of its degradations (``degradations``: the set for methods that use
        no images; default the paper's blur and noise). ``engine``: where the images run — an engine object,
        ``'local'`` or ``'ray'`` (:func:`~faig_helpers.engines.make_engine`; default: a
        :class:`~faig_helpers.engines.LocalEngine`, one image per core). ``cache_dir``: per-image results are
        read from and written to it (keyed by method, rule, nodes, precision, degradations, θ, θ̄ and the
        image's content); with ``refresh`` every image is computed again and its cached result overwritten."""
        degs = degradation_set(data.degradations if data is not None and degradations is None else degradations)
        info = dict(self.settings(n_steps, quadrature, degs), filters=len(self))
        if not self.uses_images():
            return self.reduce([], degs, info)
        if data is None or not len(data):
            raise AttributionError(f"{self.name} needs evaluation images")
        if "clean" in self.inputs and not data.clean:
            raise AttributionError(f"{self.name} needs the clean LR inputs: load the dataset with clean=True")
        data = data.select(degs)
        check(quadrature, n_steps)
        info["images"] = list(data.names)
        cache = Path(cache_dir) / self._cache_key(n_steps, quadrature, degs) if cache_dir is not None else None
        results: dict[int, dict[str, np.ndarray]] = {}
        paths: dict[int, Path] = {}
        for i, name in enumerate(data.names):
            if cache is not None:
                paths[i] = cache / f"{Path(name).stem}-{tensor_digest(*data.image(i))}.npz"
                if paths[i].exists() and not refresh:
                    try:
                        with np.load(paths[i]) as z:
                            results[i] = dict(z)
                    except Exception as e:  # truncated, or written by another version: recompute it
                        warnings.warn(f"{paths[i]}: unreadable cache entry ({type(e).__name__}: "
                                      f"{str(e).splitlines()[0][:80] if str(e) else ''}); recomputing this image",
                                      stacklevel=2)
        todo = [i for i in range(len(data)) if i not in results]
        bar = tqdm(total=len(data), initial=len(results), desc=f"{self.name} {quadrature}×{n_steps}",
                   disable=not progress, leave=False)
        try:
            task = _ImageTask(self, data, n_steps, quadrature)
            with open_engine(engine) as eng:
                for i, res in eng.map(task, todo, self.path.model, self.device):
                    if i in paths:
                        with atomic_path(paths[i]) as tmp, open(tmp, "wb") as f:
                            np.savez(f, **res)
                    results[i] = res
                    bar.update(1)
        finally:
            bar.close()
        return self.reduce([results[i] for i in range(len(data))], degs, info)

    def _cache_key(self, n_steps: int, quadrature: str, degradations: Sequence[str]) -> str:
        """Cache folder: method, rule, nodes, degradation set and a digest of θ and θ̄."""
        digest = tensor_digest(*self.path.theta.values(), *self.path.theta_bar.values())
        rule = f"{quadrature}2" if quadrature == ADAPTIVE else quadrature  # 2: the stopping rule of 0.2
        return f"{self.name}-{rule}-{n_steps}-{self.precision}-{'_'.join(degradations)}-{digest}"


@dataclass
class _ImageTask:
    """One image's attribution, as an engine runs it: ``task(i, model)`` (picklable for Ray)."""

    method: Attribution
    data: DatasetRoot | None
    n_steps: int
    quadrature: str

    def __call__(self, i: int, model: nn.Module | None = None) -> dict[str, np.ndarray]:
        return self.method.attribute_image(self.data, i, self.n_steps, self.quadrature, model)

    def to(self, device: str | torch.device) -> "_ImageTask":
        """The task with its method on ``device`` (images move per use)."""
        self.method.to(device)
        return self

    def split(self) -> tuple["_ImageTask", Callable[[int], DatasetRoot]]:
        """For engines that ship work to other processes: this task without its images, and item → the one-image
        dataset that item reads (so a worker receives the method once and only the images it runs)."""
        def part(i: int) -> DatasetRoot:
            d = self.data
            return DatasetRoot([d.names[i]], d.gt[i:i + 1], {k: v[i:i + 1] for k, v in d.inputs.items()},
                               d.clean[i:i + 1])

        return _ImageTask(self.method, None, self.n_steps, self.quadrature), part

    def bind(self, part: DatasetRoot) -> Callable[[int, nn.Module | None], dict[str, np.ndarray]]:
        """The task of one image from :meth:`split`'s part, called as ``task(item, model)``."""
        task = _ImageTask(self.method, part, self.n_steps, self.quadrature)
        return lambda _item, model=None: task(0, model)


METHODS: dict[str, type[Attribution]] = {}


def register(cls: type[Attribution]) -> type[Attribution]:
    """Class decorator: add a method to :data:`METHODS` under its ``name``; a method that declares no
    ``label`` is labelled by its name, one that declares no ``colour`` gets the next free colour of the
    colour-blind palette."""
    if not getattr(cls, "name", ""):
        raise ConfigError(f"{cls.__name__} declares no 'name'")
    cls.label = cls.__dict__.get("label") or cls.name
    if cls.__dict__.get("colour") is None:
        used = {tuple(m.colour) for m in METHODS.values() if m.colour is not None and not isinstance(m.colour, str)}
        free = [c for c in COLORBLIND if tuple(c) not in used]
        cls.colour = free[0] if free else "0.3"  # the palette is used up: dark grey
    METHODS[cls.name] = cls
    return cls


def method_class(name: str) -> type[Attribution]:
    """The registered method ``name``, or a :class:`ConfigError` listing the registered ones."""
    if name not in METHODS:
        raise ConfigError(f"unknown attribution method '{name}': expected one of {list(METHODS)}")
    return METHODS[name]


class _PaperMethods:
    """The names of the registered methods of the paper's comparison (``paper = True``), in registration order."""

    def __iter__(self):
        return iter([n for n, c in METHODS.items() if getattr(c, "paper", True)])

    def __contains__(self, name: object) -> bool:
        return name in list(self)

    def __repr__(self) -> str:
        return repr(list(self))


#: ``methods=None``: the paper's comparison set (FAIG, IG, |Δθ|, random); the model-merging localizers (declared
#: ``paper = False``) run when named, e.g. in notebook 10
PAPER_METHODS = _PaperMethods()


def resolve_methods(methods: Sequence[str] | None) -> list[str]:
    """``methods`` checked against the registry; None: the paper's comparison set (:data:`PAPER_METHODS`), in
    registration order; ``"all"``: every registered method."""
    names = list(PAPER_METHODS) if methods is None else list(METHODS) if methods == "all" else list(methods)
    for m in names:
        method_class(m)
    if not names:
        raise ConfigError("methods is empty: name at least one of " + ", ".join(METHODS))
    return names


def attribute(method: str, baseline: nn.Module, target: nn.Module, data: DatasetRoot | None = None, *,
              device: str | torch.device | None = None, seed: int = 0, precision: str = DEFAULT_PRECISION,
              **options) -> FilterScores:
    """``METHODS[method](baseline, target, device=, seed=, precision=).attribute(data, **options)``."""
    return method_class(method)(baseline, target, device=device, seed=seed, precision=precision).attribute(
        data, **options)

