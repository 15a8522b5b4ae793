"""Filter attribution: FAIG and the three comparison methods, with one captum-like API.

Every method returns :class:`FilterScores` — one score per filter for *blur* and one for
*noise* (higher = more specific to that degradation) — via ``Method(...).attribute(data, ...)``.

FAIG (paper eq. 6–7). With θ(α) = α·θ̄ + (1−α)·θ, L(θ, x) = Σ (f_θ(x) − y)² and
G_d = ∫₀¹ ∇_θ L(θ(α), x_d) dα ≈ Σ_k w_k ∇_θ L(θ(α_k), x_d):

    A_d(filter) = Σ_{3×3} |G_d ⊙ (θ̄ − θ)|        (per image)
    blur score  = mean_images(A_blur − A_noise) = −noise score

Both rankings come from one computation. The network is evaluated at θ(α_k) by writing the
interpolated weights into one reused module (no rebuild), channels-last on every device.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .degradations import DatasetRoot
from .filters import FilterIndex
from .io_utils import atomic_path, tensor_digest
from .quadrature import nodes_and_weights

__all__ = ["FilterScores", "FAIG", "IntegratedGradients", "AbsoluteFilterChange", "RandomFilters", "METHODS",
           "attribute", "ranking_from_scores", "top_jaccard", "convergence_table", "DEFAULT_QUADRATURE",
           "DEFAULT_STEPS"]

METHODS = ("faig", "ig", "abs_filter_change", "random")
#: default quadrature, chosen from the convergence measurement of notebook 01 / benchmarks/bench_faig.py:
#: with 16 nodes the midpoint rule matched a 64-node Gauss–Legendre reference best (top-1% sets)
DEFAULT_QUADRATURE, DEFAULT_STEPS = "riemann_middle", 16


def ranking_from_scores(scores: np.ndarray) -> np.ndarray:
    """Filter indices sorted by descending score (stable: ties keep index order)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


@dataclass
class FilterScores:
    """Per-filter scores for blur and noise, plus diagnostics.

    ``per_image`` holds (n_images, n_filters) arrays (FAIG: 'A_blur', 'A_noise'); ``delta`` the
    relative completeness deltas, shape (n_images, 2) for (blur, noise) inputs.
    """

    method: str
    blur: np.ndarray
    noise: np.ndarray
    per_image: dict[str, np.ndarray] = field(default_factory=dict)
    delta: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def ranking(self, degradation: str) -> np.ndarray:
        """Filter indices, most {blur,noise}-specific first."""
        return ranking_from_scores({"blur": self.blur, "noise": self.noise}[degradation])

    @property
    def blur_index(self) -> np.ndarray:
        return self.ranking("blur")

    @property
    def noise_index(self) -> np.ndarray:
        return self.ranking("noise")


def _device(device: str | torch.device | None) -> torch.device:
    return torch.device(device) if device is not None else torch.device("cpu")


def _cl(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=torch.channels_last) if t.ndim == 4 else t


def _params(model: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    sd = model.state_dict() if isinstance(model, nn.Module) else model
    return {k: v.detach().float() for k, v in sd.items()}


class FAIG:
    """Filter Attribution based on Integral Gradient.

    >>> scores = FAIG(baseline, target).attribute(data, n_steps=16, method="riemann_middle")
    >>> scores.blur_index[:10]
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, device: str | torch.device | None = None):
        self.device = _device(device)
        self.model = copy.deepcopy(target).to(self.device).eval()
        self.model = self.model.to(memory_format=torch.channels_last)
        self.model.requires_grad_(True)
        self.names = [n for n, _ in self.model.named_parameters()]
        tb, tt = _params(baseline), _params(target)
        self.theta = {n: tt[n].to(self.device) for n in self.names}
        self.diff = {n: (tb[n] - tt[n]).to(self.device) for n in self.names}  # θ̄ − θ
        self.index = FilterIndex.from_state_dict(tt)
        self._replicas: list[nn.Module] = []

    def _set_alpha(self, model: nn.Module, alpha: float) -> None:
        """Write θ(α) = θ + α(θ̄ − θ) into ``model``'s parameters in place (no rebuild)."""
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(torch.add(self.theta[n], self.diff[n], alpha=alpha))

    def attribute_image(self, x_blur: torch.Tensor, x_noise: torch.Tensor, gt: torch.Tensor,
                        n_steps: int = DEFAULT_STEPS, method: str = DEFAULT_QUADRATURE,
                        model: nn.Module | None = None) -> dict[str, np.ndarray]:
        """One image: A_blur, A_noise (n_filters,) and the relative completeness deltas (2,)."""
        model = self.model if model is None else model
        alphas, weights = nodes_and_weights(method, n_steps)
        xs = [_cl(x.to(self.device)) for x in (x_blur, x_noise)]
        y = gt.to(self.device)
        params = list(model.parameters())
        acc = [[torch.zeros_like(p) for p in params] for _ in xs]
        for a, w in zip(alphas, weights):
            self._set_alpha(model, float(a))
            for d, x in enumerate(xs):
                grads = torch.autograd.grad(((model(x) - y) ** 2).sum(), params)
                for s, g in zip(acc[d], grads):
                    s.add_(g, alpha=float(w))
        out: dict[str, np.ndarray] = {}
        losses = []
        with torch.no_grad():
            for alpha in (1.0, 0.0):  # L(θ̄, x), L(θ, x), accumulated in float64
                self._set_alpha(model, alpha)
                losses.append([((model(x).double() - y.double()) ** 2).sum().item() for x in xs])
        deltas = []
        for d, name in enumerate(("A_blur", "A_noise")):
            signed = {n: g * self.diff[n] for n, g in zip(self.names, acc[d])}
            out[name] = self.index.per_filter({n: v.abs() for n, v in signed.items()}).cpu().double().numpy()
            total = sum(v.double().sum().item() for v in signed.values())
            ref = losses[0][d] - losses[1][d]
            deltas.append((total - ref) / abs(ref) if ref != 0 else np.nan)
        out["delta"] = np.array(deltas)
        return out

    def attribute(self, data: DatasetRoot, n_steps: int = DEFAULT_STEPS, method: str = DEFAULT_QUADRATURE,
                  return_convergence_delta: bool = False, cache_dir: str | os.PathLike | None = None,
                  progress: bool = True, workers: int | None = None) -> FilterScores:
        """FAIG over a dataset.

        With ``cache_dir`` each image's result is saved as soon as it is done, so an interrupted run
        resumes where it stopped and ends with the identical ranking. On CPU, ``workers`` images
        are processed at once, one core each (default: one per intra-op thread): small convs scale
        far better across images than inside one convolution.
        """
        cache = Path(cache_dir) / self._key(n_steps, method) if cache_dir is not None else None
        keys = ("A_blur", "A_noise", "delta")
        results: dict[int, dict[str, np.ndarray]] = {}
        todo = []
        for i, name in enumerate(data.names):
            path = cache / f"{Path(name).stem}-{tensor_digest(data.blur[i], data.noise[i], data.gt[i])}.npz" \
                if cache is not None else None
            if path is not None and path.exists():
                with np.load(path) as z:
                    results[i] = {k: z[k] for k in keys}
            else:
                todo.append((i, path))
        if workers is None:
            workers = torch.get_num_threads() if self.device.type == "cpu" else 1
        workers = max(1, min(workers, len(todo)))
        bar = tqdm(total=len(data), initial=len(results), desc=f"FAIG {method}×{n_steps}", disable=not progress,
                   leave=False)

        def run(item: tuple[int, Path | None], model: nn.Module) -> None:
            i, path = item
            res = self.attribute_image(data.blur[i], data.noise[i], data.gt[i], n_steps, method, model)
            if path is not None:
                with atomic_path(path) as tmp, open(tmp, "wb") as f:
                    np.savez(f, **res)
            results[i] = res
            bar.update(1)

        try:
            if workers == 1:
                for item in todo:
                    run(item, self.model)
            else:
                self._run_parallel(todo, run, workers)
        finally:
            bar.close()
        a_blur = np.stack([results[i]["A_blur"] for i in range(len(data))])
        a_noise = np.stack([results[i]["A_noise"] for i in range(len(data))])
        score = (a_blur - a_noise).mean(0)
        delta = np.stack([results[i]["delta"] for i in range(len(data))])
        return FilterScores("faig", score, -score, {"A_blur": a_blur, "A_noise": a_noise},
                            delta if return_convergence_delta else None,
                            dict(n_steps=n_steps, quadrature=method, images=list(data.names)))

    def _run_parallel(self, todo: list, run, workers: int) -> None:
        """Images in ``workers`` threads, each with its own model copy and one intra-op thread."""
        import queue
        from concurrent.futures import ThreadPoolExecutor

        while len(self._replicas) < workers:
            self._replicas.append(copy.deepcopy(self.model))
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

    def _key(self, n_steps: int, method: str) -> str:
        """Cache folder name: rule, nodes and a digest of θ and θ̄ − θ."""
        return f"faig-{method}-{n_steps}-{tensor_digest(*self.theta.values(), *self.diff.values())}"


class IntegratedGradients:
    """IG baseline of the paper: target model only, input path x(α) = x_clean + α(x_deg − x_clean);
    per filter Σ_{3×3} |Σ_k w_k ∇_θ Σ f_θ(x(α_k))|, averaged over images, one ranking per degradation."""

    def __init__(self, target: nn.Module, device: str | torch.device | None = None, batch_size: int = 32):
        self.device = _device(device)
        self.model = copy.deepcopy(target).to(self.device).eval().to(memory_format=torch.channels_last)
        self.model.requires_grad_(True)
        self.index = FilterIndex.from_state_dict(self.model.state_dict())
        self.batch_size = batch_size

    def attribute_image(self, x_clean: torch.Tensor, x_deg: torch.Tensor, n_steps: int = DEFAULT_STEPS,
                        method: str = DEFAULT_QUADRATURE) -> np.ndarray:
        alphas, weights = nodes_and_weights(method, n_steps)
        x0, x1 = x_clean.to(self.device), x_deg.to(self.device)
        names = [n for n, p in self.model.named_parameters() if n in self.index.names]
        params = [dict(self.model.named_parameters())[n] for n in names]
        acc = [torch.zeros_like(p) for p in params]
        for s in range(0, n_steps, self.batch_size):
            a = torch.as_tensor(alphas[s:s + self.batch_size], dtype=x0.dtype, device=self.device)
            w = torch.as_tensor(weights[s:s + self.batch_size], dtype=x0.dtype, device=self.device)
            xb = _cl(x0 + a.view(-1, 1, 1, 1) * (x1 - x0))
            out = self.model(xb)
            loss = (out.sum(dim=(1, 2, 3)) * w).sum()  # Σ_k w_k Σ f(x_k) → its gradient is Σ_k w_k g_k
            for t, g in zip(acc, torch.autograd.grad(loss, params)):
                t.add_(g)
        return self.index.per_filter({n: t.abs() for n, t in zip(names, acc)}).cpu().double().numpy()

    def attribute(self, data: DatasetRoot, n_steps: int = DEFAULT_STEPS, method: str = DEFAULT_QUADRATURE,
                  progress: bool = True) -> FilterScores:
        res = {}
        for deg in ("blur", "noise"):
            imgs = getattr(data, deg)
            res[deg] = np.stack([self.attribute_image(c, x, n_steps, method) for c, x in
                                 tqdm(list(zip(data.clean, imgs)), desc=f"IG {deg}", disable=not progress, leave=False)])
        return FilterScores("ig", res["blur"].mean(0), res["noise"].mean(0),
                            {"ig_blur": res["blur"], "ig_noise": res["noise"]},
                            info=dict(n_steps=n_steps, quadrature=method, images=list(data.names)))


class AbsoluteFilterChange:
    """|Δθ| baseline: per filter Σ_{3×3}|θ − θ̄| / Σ_{3×3}|θ̄|; the same ranking for blur and noise."""

    def __init__(self, baseline: nn.Module | Mapping[str, torch.Tensor], target: nn.Module | Mapping[str, torch.Tensor]):
        self.tb, self.tt = _params(baseline), _params(target)
        self.index = FilterIndex.from_state_dict(self.tt)

    def attribute(self, data: DatasetRoot | None = None, **_: object) -> FilterScores:
        num = self.index.per_filter({n: (self.tt[n] - self.tb[n]).abs() for n in self.index.names})
        den = self.index.per_filter({n: self.tb[n].abs() for n in self.index.names})
        score = (num.double() / den.double()).numpy()
        return FilterScores("abs_filter_change", score, score.copy())


class RandomFilters:
    """Random baseline: two independent seeded permutations (blur, noise)."""

    def __init__(self, model: nn.Module | Mapping[str, torch.Tensor], seed: int = 0):
        self.index = FilterIndex.from_state_dict(_params(model))
        self.seed = seed

    def attribute(self, data: DatasetRoot | None = None, **_: object) -> FilterScores:
        rng = np.random.default_rng(self.seed)
        n = len(self.index)
        # scores whose descending order is a uniformly random permutation
        blur, noise = rng.permutation(n).astype(np.float64), rng.permutation(n).astype(np.float64)
        return FilterScores("random", blur, noise, info=dict(seed=self.seed))


def attribute(method: str, baseline: nn.Module, target: nn.Module, data: DatasetRoot,
              n_steps: int = DEFAULT_STEPS, quadrature: str = DEFAULT_QUADRATURE,
              device: str | torch.device | None = None,
              seed: int = 0, cache_dir: str | os.PathLike | None = None, progress: bool = True,
              return_convergence_delta: bool = False) -> FilterScores:
    """Dispatch to one of :data:`METHODS` with the shared options."""
    if method == "faig":
        return FAIG(baseline, target, device).attribute(data, n_steps, quadrature, return_convergence_delta,
                                                        cache_dir, progress)
    if method == "ig":
        return IntegratedGradients(target, device).attribute(data, n_steps, quadrature, progress)
    if method == "abs_filter_change":
        return AbsoluteFilterChange(baseline, target).attribute()
    if method == "random":
        return RandomFilters(target, seed).attribute()
    raise ValueError(f"unknown method '{method}': expected one of {METHODS}")


def top_jaccard(a: np.ndarray, b: np.ndarray, fraction: float = 0.01) -> float:
    """Jaccard index of the top ``fraction`` of two score vectors (by descending score)."""
    k = max(1, int(len(a) * fraction))
    sa, sb = set(ranking_from_scores(a)[:k].tolist()), set(ranking_from_scores(b)[:k].tolist())
    return len(sa & sb) / len(sa | sb)


def convergence_table(faig: FAIG, data: DatasetRoot, rules: Sequence[str], node_counts: Sequence[int],
                      reference: tuple[str, int] = ("gausslegendre", 64), progress: bool = True):
    """For each rule and node count: mean |relative completeness delta| and top-1% Jaccard and
    Spearman ρ of the blur scores against a high-order reference. Returns a pandas DataFrame."""
    import pandas as pd
    from scipy.stats import spearmanr

    ref = faig.attribute(data, reference[1], reference[0], progress=False)
    rows = []
    for rule in tqdm(rules, desc="quadrature rules", disable=not progress, leave=False):
        for n in node_counts:
            s = faig.attribute(data, n, rule, return_convergence_delta=True, progress=False)
            rows.append(dict(rule=rule, nodes=n, abs_delta=float(np.abs(s.delta).mean()),
                             jaccard_top1=top_jaccard(s.blur, ref.blur, 0.01),
                             jaccard_top1_noise=top_jaccard(s.noise, ref.noise, 0.01),
                             spearman=float(spearmanr(s.blur, ref.blur)[0])))
    return pd.DataFrame(rows)
