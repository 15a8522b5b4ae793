"""The attribution contract shared by every method, its result type and the method registry.

Every method is an :class:`Attribution`, built as ``Method(baseline, target, *, device=None, seed=0)`` and
run as ``.attribute(data, *, n_steps=, quadrature=, progress=, cache_dir=, engine=)``; it returns
:class:`FilterScores`: one score per filter for each degradation D of the dataset (higher = more specific
to D). Each method declares what callers need: a ``label`` and a ``colour`` for tables and figures, and
the ``inputs`` it reads from a dataset root. The registry (:mod:`.registry`), the adaptive rule's loop
(:mod:`.refine`), the precision policy (:mod:`.numerics`), the per-image cache (:mod:`.cache`) and the engine's
task (:mod:`.tasks`) each live in their own module.
"""
from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..degradations import DatasetRoot, degradation_set
from ..engines import Engine, open_engine
from ..errors import AttributionError, ConfigError
from ..filters import ranking_from_scores, top_set
from ..parameter_path import ParameterPath
from ..quadrature import ADAPTIVE, check
from .cache import ImageCache, cache_key
from .numerics import DEFAULT_PRECISION, resolve_precision
from .refine import DEFAULT_QUADRATURE, DEFAULT_STEPS, stopping_rule
from .tasks import ImageTask

__all__ = ["FilterScores", "Attribution"]


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


class Attribution(ABC):
    """One filter-attribution method: ``Method(baseline, target, *, device=None, seed=0).attribute(data, ...)``.

    What every method declares, in its ``@register(...)`` line or as class attributes: ``name`` (registry key,
    results folder), ``label`` and ``colour`` (tables, figures), ``order``, ``paper``, ``inputs`` — what it
    reads from a dataset root: 'gt' (ground truth), 'degraded' (the LR inputs of each degradation), 'clean'
    (the clean LR inputs); empty: no images.
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
    #: where the method is listed (tables, figures, the CLI's choices): lower first
    order: ClassVar[float] = 100

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
        rule = dict(stopping=stopping_rule()) if quadrature == ADAPTIVE else {}
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
        cache = ImageCache(cache_dir, self.cache_key(n_steps, quadrature, degs))
        paths = {i: cache.path(name, data.image(i)) for i, name in enumerate(data.names)}
        results: dict[int, dict[str, np.ndarray]] = {}
        for i, path in paths.items():
            cached = None if refresh else cache.read(path)
            if cached is not None:
                results[i] = cached
        todo = [i for i in range(len(data)) if i not in results]
        bar = tqdm(total=len(data), initial=len(results), desc=f"{self.name} {quadrature}×{n_steps}",
                   disable=not progress, leave=False)
        try:
            task = ImageTask(self, data, n_steps, quadrature)
            with open_engine(engine) as eng:
                for i, res in eng.map(task, todo, self.path.model, self.device):
                    cache.write(paths[i], res)
                    results[i] = res
                    bar.update(1)
        finally:
            bar.close()
        return self.reduce([results[i] for i in range(len(data))], degs, info)

    def per_filter_l1(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Σ_kernel |t| per filter (float64) of per-parameter tensors, e.g. the task vector
        (``self.path.difference()``) or θ̄: what the image-free methods rank by."""
        return self.index.per_filter({n: tensors[n].abs() for n in self.index.names}).double()

    def one_order(self, score: torch.Tensor | np.ndarray, degradations: list[str], info: dict) -> FilterScores:
        """The same scores for every degradation (methods that use no images)."""
        score = score.cpu().numpy() if isinstance(score, torch.Tensor) else np.asarray(score)
        return FilterScores(self.name, {d: score.copy() for d in degradations}, info=info)

    def cache_key(self, n_steps: int, quadrature: str, degradations: Sequence[str]) -> str:
        """The folder of this run's per-image cache (:func:`~faig_helpers.methods.cache.cache_key`)."""
        return cache_key(self.name, n_steps, quadrature, self.precision, degradations,
                         [*self.path.theta.values(), *self.path.theta_bar.values()])
