"""Filter attribution: FAIG and the three comparison methods, behind one captum-like contract.

Every method is an :class:`Attribution`, built as ``Method(baseline, target, *, device=None, seed=0)``
and run as ``.attribute(data, *, n_steps=, quadrature=, progress=, cache_dir=)``; it returns
:class:`FilterScores` — one score per filter for *blur* and one for *noise* (higher = more specific
to that degradation). :data:`METHODS` maps the method names to the classes.

FAIG (paper eq. 6–7). With θ(α) = α·θ̄ + (1−α)·θ, L(θ, x) = Σ (f_θ(x) − y)² and
G_d = ∫₀¹ ∇_θ L(θ(α), x_d) dα ≈ Σ_k w_k ∇_θ L(θ(α_k), x_d):

    A_d(filter) = Σ_{3×3} |G_d ⊙ (θ̄ − θ)|        (per image)
    blur score  = mean_images(A_blur − A_noise) = −noise score

Both rankings come from one computation; the network is evaluated along the path with
:class:`~faig_helpers.parameter_path.ParameterPath` (no rebuild), channels-last.
"""
from __future__ import annotations

import copy
import math
import os
import queue
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .degradations import DEGRADATIONS, DatasetRoot
from .filters import FilterIndex, ranking_from_scores, top_jaccard, top_set, top_sets_agree
from .io_utils import atomic_path, tensor_digest
from .parameter_path import ParameterPath
from .quadrature import ADAPTIVE, ADAPTIVE_MAX, check, refinements
from .errors import AttributionError

__all__ = ["AttributionError", "FilterScores", "Attribution", "FAIG", "IntegratedGradients", "AbsoluteFilterChange",
           "RandomFilters", "METHODS", "register", "Refiner", "attribute", "ranking_from_scores", "top_jaccard", "top_sets_agree", "DEFAULT_QUADRATURE",
           "DEFAULT_STEPS"]

#: default quadrature (see ``benchmarks/bench_faig.py`` and the README's speed table)
DEFAULT_QUADRATURE, DEFAULT_STEPS = ADAPTIVE, ADAPTIVE_MAX
#: the adaptive rule refines an image until the per-filter result changes by at most ADAPTIVE_CHANGE
#: (relative L1) between levels and, for FAIG, the relative completeness delta of every input is at most
#: ADAPTIVE_DELTA (benchmarks/bench_faig.py: top-1% Jaccard ≥ 0.98 against a 512-node reference)
ADAPTIVE_DELTA, ADAPTIVE_CHANGE = 0.02, 0.02


class _Change:
    """Relative L1 change ‖a_now − a_before‖₁ / ‖a_now‖₁ of per-filter results between two levels
    (∞ at the first level): the trapezoid rule's own error estimate, filter by filter."""

    def __init__(self) -> None:
        self.before: list[np.ndarray] | None = None

    def __call__(self, now: list[np.ndarray]) -> float:
        before, self.before = self.before, now
        if before is None:
            return np.inf
        return max(float(np.abs(a - b).sum() / max(np.abs(a).sum(), 1e-300)) for a, b in zip(now, before))



@dataclass
class FilterScores:
    """Per-filter scores for blur and noise, plus what they were computed from.

    ``per_image``: {'blur', 'noise'} → (n_images, n_filters) per-image scores whose mean over images
    is the score (empty for methods that use no images); ``delta``: FAIG's relative completeness
    deltas, (n_images, 2) for (blurry, noisy) inputs.
    """

    method: str
    blur: np.ndarray
    noise: np.ndarray
    per_image: dict[str, np.ndarray] = field(default_factory=dict)
    delta: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.blur)

    def ranking(self, degradation: str) -> np.ndarray:
        """Filter indices, most {blur,noise}-specific first."""
        return ranking_from_scores(self.score(degradation))

    def score(self, degradation: str) -> np.ndarray:
        if degradation not in DEGRADATIONS:
            raise ValueError(f"unknown degradation '{degradation}': expected one of {list(DEGRADATIONS)}")
        return self.blur if degradation == "blur" else self.noise

    def top(self, degradation: str, percent: float) -> np.ndarray:
        """The top-p% filter set of one ranking (k = ⌊n·p/100⌋, :func:`~faig_helpers.filters.top_count`)."""
        return top_set(self.score(degradation), percent)


class Refiner:
    """Iterate over the steps of ``quadrature`` (:func:`~faig_helpers.quadrature.refinements`). For the
    adaptive rule, ``error()`` is called after every level (it may compare levels) and refinement stops
    at the first level from the second on where it is ≤ ``tolerance``. ``nodes``: the nodes used."""

    def __init__(self, quadrature: str, n_steps: int, error: Callable[[], float], tolerance: float) -> None:
        self.steps, self.error, self.tolerance = refinements(quadrature, n_steps), error, tolerance
        self.adaptive, self.nodes = quadrature == ADAPTIVE, 0

    def __iter__(self):
        for level, (alphas, weights, keep) in enumerate(self.steps):
            yield alphas, weights, keep
            self.nodes += len(alphas)
            if self.adaptive and self.error() <= self.tolerance and level >= 1:  # error() sees every level
                return


def _check_finite(t: torch.Tensor, what: str) -> None:
    if not bool(torch.isfinite(t).all()):
        raise AttributionError(f"non-finite {what}: check the checkpoints and images for NaN/Inf "
                               f"(or too large values); no ranking was written")


class Attribution(ABC):
    """One filter-attribution method: ``Method(baseline, target, *, device=None, seed=0).attribute(data, ...)``.

    ``seed`` matters only for stochastic methods. Methods that use images compute them one image at a
    time through :meth:`attribute_image`; with ``cache_dir`` every image's result is saved as soon
    as it is done, so an interrupted run resumes and ends with the identical scores.
    """

    name: ClassVar[str]
    uses_images: ClassVar[bool] = True  # False: data, n_steps and quadrature do not matter

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None,
                 seed: int = 0) -> None:
        self.path = ParameterPath(baseline, target, device=device, channels_last=True)
        self.device, self.index, self.seed = self.path.device, self.path.index, seed
        self._replicas: list[nn.Module] = []

    def __len__(self) -> int:
        return len(self.index)

    def settings(self, n_steps: int, quadrature: str) -> dict:
        """What the scores depend on besides the models and images (to key saved results)."""
        return dict(method=self.name, n_steps=n_steps, quadrature=quadrature) if self.uses_images else \
            dict(method=self.name)

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module) -> dict[str, np.ndarray]:
        """Per-image arrays for image ``i`` (methods that use images)."""
        raise NotImplementedError

    @abstractmethod
    def reduce(self, results: list[dict[str, np.ndarray]], info: dict) -> FilterScores:
        """Per-image arrays → :class:`FilterScores`."""

    def attribute(self, data: DatasetRoot | None = None, *, n_steps: int = DEFAULT_STEPS,
                  quadrature: str = DEFAULT_QUADRATURE, progress: bool = True,
                  cache_dir: str | os.PathLike | None = None, workers: int | None = None) -> FilterScores:
        """Scores over ``data``. On CPU, ``workers`` images run at once, one core each (default: one
        per intra-op thread): the small convolutions of an SR net scale far better across images than
        inside one convolution."""
        info = dict(self.settings(n_steps, quadrature), filters=len(self))
        if not self.uses_images:
            return self.reduce([], info)
        if data is None or not len(data):
            raise AttributionError(f"{self.name} needs evaluation images")
        check(quadrature, n_steps)
        info["images"] = list(data.names)
        cache = Path(cache_dir) / self._cache_key(n_steps, quadrature) if cache_dir is not None else None
        results: dict[int, dict[str, np.ndarray]] = {}
        todo: list[tuple[int, Path | None]] = []
        for i, name in enumerate(data.names):
            path = None
            if cache is not None:
                path = cache / f"{Path(name).stem}-{tensor_digest(*data.image(i))}.npz"
                if path.exists():
                    with np.load(path) as z:
                        results[i] = dict(z)
                    continue
            todo.append((i, path))
        bar = tqdm(total=len(data), initial=len(results), desc=f"{self.name} {quadrature}×{n_steps}",
                   disable=not progress, leave=False)

        def run(item: tuple[int, Path | None], model: nn.Module) -> None:
            i, path = item
            res = self.attribute_image(data, i, n_steps, quadrature, model)
            if path is not None:
                with atomic_path(path) as tmp, open(tmp, "wb") as f:
                    np.savez(f, **res)
            results[i] = res
            bar.update(1)

        if workers is None:
            workers = torch.get_num_threads() if self.device.type == "cpu" else 1
        try:
            self._map(run, todo, max(1, min(workers, len(todo))))
        finally:
            bar.close()
        return self.reduce([results[i] for i in range(len(data))], info)

    def _map(self, run: Callable[[tuple, nn.Module], None], todo: list, workers: int) -> None:
        """Run ``todo`` in ``workers`` threads, each with its own module replica (functional_call
        swaps a module's parameters while it runs) and one intra-op thread (no oversubscription)."""
        if workers == 1:
            for item in todo:
                run(item, self.path.model)
            return
        while len(self._replicas) < workers:
            self._replicas.append(copy.deepcopy(self.path.model))
        free: queue.Queue = queue.Queue()
        for m in self._replicas[:workers]:
            free.put(m)

        def job(item):
            m = free.get()
            try:
                run(item, m)
            finally:
                free.put(m)

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        pool = ThreadPoolExecutor(workers)
        try:
            for f in [pool.submit(job, item) for item in todo]:
                f.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            torch.set_num_threads(threads)

    def _cache_key(self, n_steps: int, quadrature: str) -> str:
        """Cache folder: method, rule, nodes and a digest of θ and θ̄."""
        digest = tensor_digest(*self.path.theta.values(), *self.path.theta_bar.values())
        return f"{self.name}-{quadrature}-{n_steps}-{digest}"


METHODS: dict[str, type[Attribution]] = {}


def register(cls: type[Attribution]) -> type[Attribution]:
    """Class decorator: add a method to :data:`METHODS` under its ``name``."""
    METHODS[cls.name] = cls
    return cls


@register
class FAIG(Attribution):
    """Filter Attribution based on Integral Gradient.

    >>> scores = FAIG(baseline, target).attribute(data, n_steps=16, quadrature="riemann_middle")
    >>> scores.top("blur", 1.0)
    """

    name = "faig"

    def __init__(self, baseline: nn.Module, target: nn.Module, *, device: str | torch.device | None = None,
                 seed: int = 0) -> None:
        super().__init__(baseline, target, device=device, seed=seed)
        self.diff = self.path.difference()  # θ̄ − θ

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module) -> dict[str, np.ndarray]:
        """Image ``i``: A_blur, A_noise (n_filters,) and the relative completeness deltas (2,)."""
        return self.attribute_inputs([data.blur[i], data.noise[i]], data.gt[i], n_steps, quadrature, model,
                                     where=f"image '{data.names[i]}'")

    def attribute_inputs(self, xs: Sequence[torch.Tensor], gt: torch.Tensor, n_steps: int = DEFAULT_STEPS,
                         quadrature: str = DEFAULT_QUADRATURE, model: nn.Module | None = None,
                         where: str = "input") -> dict[str, np.ndarray]:
        """A_x = Σ_{3×3}|G_x ⊙ (θ̄ − θ)| for each input x against ``gt`` (keys A_blur, A_noise for two
        inputs, else A_0, A_1, …) and the relative completeness delta of each, 'delta'."""
        path, model = self.path, model or self.path.model
        y = gt.to(self.device)
        with torch.no_grad():  # endpoint losses in float64: ΔL = L(θ̄, x) − L(θ, x)
            ends = [[((path(x, path.params(alpha), model).double() - y.double()) ** 2).sum().item() for x in xs]
                    for alpha in (1.0, 0.0)]
        change = [ends[0][d] - ends[1][d] for d in range(len(xs))]
        acc = [{n: torch.zeros_like(v) for n, v in path.theta.items()} for _ in xs]

        def deltas() -> list[float]:
            """Relative completeness delta per input: (Σ G⊙(θ̄ − θ) − ΔL) / |ΔL|."""
            totals = [sum((g * self.diff[n]).double().sum().item() for n, g in a.items()) for a in acc]
            if not all(math.isfinite(v) for v in (*totals, *change)):
                _check_finite(torch.tensor([*totals, *change]), f"loss or gradient along the path for {where}")
            return [(t - c) / abs(c) if c != 0 else np.nan for t, c in zip(totals, change)]

        per_filter = lambda a: self.index.per_filter({n: (g * self.diff[n]).abs() for n, g in a.items()})  # noqa: E731
        moved = _Change()

        def error() -> float:
            """≤ 1 once both the completeness delta and the per-filter change are within tolerance."""
            delta = float(np.nanmax(np.abs(deltas()), initial=0.0)) / ADAPTIVE_DELTA
            return max(delta, moved([per_filter(a).double().cpu().numpy() for a in acc]) / ADAPTIVE_CHANGE)

        steps = Refiner(quadrature, n_steps, error, 1.0)
        for alphas, weights, keep in steps:
            for d in acc:
                for v in d.values():
                    v.mul_(keep)
            for a, w in zip(alphas, weights):
                params = {n: v.detach().requires_grad_() for n, v in path.params(float(a)).items()}
                for d, x in enumerate(xs):
                    loss = ((path(x, params, model) - y) ** 2).sum()
                    grads = torch.autograd.grad(loss, list(params.values()))
                    for s, g in zip(acc[d].values(), grads):
                        s.add_(g, alpha=float(w))
        keys = ["A_blur", "A_noise"] if len(xs) == 2 else [f"A_{d}" for d in range(len(xs))]
        out: dict[str, np.ndarray] = {key: per_filter(a).cpu().double().numpy() for key, a in zip(keys, acc)}
        out["delta"] = np.array(deltas())
        out["nodes"] = np.array(steps.nodes)
        return out

    def reduce(self, results: list[dict[str, np.ndarray]], info: dict) -> FilterScores:
        per = np.stack([r["A_blur"] - r["A_noise"] for r in results])
        score = per.mean(0)
        info["nodes"] = [int(r["nodes"]) for r in results if "nodes" in r]
        return FilterScores(self.name, score, -score, {"blur": per, "noise": -per},
                            np.stack([r["delta"] for r in results]), info)


@register
class IntegratedGradients(Attribution):
    """IG baseline of the paper: target model only, input path x(α) = x_clean + α(x_deg − x_clean);
    per filter Σ_{3×3} |Σ_k w_k ∇_θ Σ f_θ(x(α_k))|, averaged over images, one ranking per degradation."""

    name = "ig"
    batch_size = 32  # path points per forward pass

    def attribute_image(self, data: DatasetRoot, i: int, n_steps: int, quadrature: str,
                        model: nn.Module) -> dict[str, np.ndarray]:
        if not data.clean:
            raise AttributionError(f"IG needs the clean LR inputs ('{DEGRADATIONS['blur'].folder}' has them "
                                   "degraded; load the dataset with the clean folder)")
        return {d: self._ig(data.clean[i], getattr(data, d)[i], n_steps, quadrature, model,
                            f"image '{data.names[i]}'") for d in DEGRADATIONS}

    def _ig(self, x_clean: torch.Tensor, x_deg: torch.Tensor, n_steps: int, quadrature: str, model: nn.Module,
            where: str) -> np.ndarray:
        path = self.path
        params = {n: v.detach().requires_grad_() for n, v in path.theta.items()}
        x0, x1 = x_clean.to(self.device), x_deg.to(self.device)
        acc = {n: torch.zeros_like(v) for n, v in params.items()}
        moved = _Change()
        change = lambda: moved([self.index.per_filter({n: t.abs() for n, t in acc.items()})  # noqa: E731
                                .double().cpu().numpy()])
        steps = Refiner(quadrature, n_steps, change, ADAPTIVE_CHANGE)
        for alphas, weights, keep in steps:
            for t in acc.values():
                t.mul_(keep)
            for s in range(0, len(alphas), self.batch_size):
                a = torch.as_tensor(alphas[s:s + self.batch_size], dtype=x0.dtype, device=self.device)
                w = torch.as_tensor(weights[s:s + self.batch_size], dtype=x0.dtype, device=self.device)
                out = path(x0 + a.view(-1, 1, 1, 1) * (x1 - x0), params, model)
                loss = (out.sum(dim=(1, 2, 3)) * w).sum()  # Σ_k w_k Σ f(x_k): its gradient is Σ_k w_k g_k
                _check_finite(loss.detach(), f"IG output for {where}")
                for t, g in zip(acc.values(), torch.autograd.grad(loss, list(params.values()))):
                    t.add_(g)
        return self.index.per_filter({n: t.abs() for n, t in acc.items()}).cpu().double().numpy()

    def reduce(self, results: list[dict[str, np.ndarray]], info: dict) -> FilterScores:
        per = {d: np.stack([r[d] for r in results]) for d in DEGRADATIONS}
        return FilterScores(self.name, per["blur"].mean(0), per["noise"].mean(0), per, info=info)


@register
class AbsoluteFilterChange(Attribution):
    """|Δθ| baseline: per filter Σ_{3×3}|θ − θ̄| / Σ_{3×3}|θ̄|; the same ranking for blur and noise."""

    name = "abs_filter_change"
    uses_images = False

    def reduce(self, results: list, info: dict) -> FilterScores:
        p = self.path
        num = self.index.per_filter({n: (p.theta[n] - p.theta_bar[n]).abs() for n in self.index.names})
        den = self.index.per_filter({n: p.theta_bar[n].abs() for n in self.index.names})
        score = (num.double() / den.double()).cpu().numpy()
        return FilterScores(self.name, score, score.copy(), info=info)


@register
class RandomFilters(Attribution):
    """Random baseline: two independent seeded permutations (blur, noise)."""

    name = "random"
    uses_images = False

    def settings(self, n_steps: int, quadrature: str) -> dict:
        return dict(method=self.name, seed=self.seed)

    def reduce(self, results: list, info: dict) -> FilterScores:
        rng = np.random.default_rng(self.seed)
        n = len(self.index)
        # scores whose descending order is a uniformly random permutation
        blur, noise = rng.permutation(n).astype(np.float64), rng.permutation(n).astype(np.float64)
        return FilterScores(self.name, blur, noise, info=info)


def attribute(method: str, baseline: nn.Module, target: nn.Module, data: DatasetRoot | None = None, *,
              device: str | torch.device | None = None, seed: int = 0, **options) -> FilterScores:
    """``METHODS[method](baseline, target, device=, seed=).attribute(data, **options)``."""
    if method not in METHODS:
        raise ValueError(f"unknown attribution method '{method}': expected one of {list(METHODS)}")
    return METHODS[method](baseline, target, device=device, seed=seed).attribute(data, **options)

