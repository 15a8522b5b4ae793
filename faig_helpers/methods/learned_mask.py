"""A learned per-filter mask (Localize-and-Stitch, He et al. 2024; TALL-masks, Wang et al. 2024 — per filter and
degradation): which filters of the task vector τ = θ − θ̄, stitched into the baseline, restore D's function.

    θ(s) = θ̄ + σ(s) ⊙ τ        (σ(s_f) on every kernel entry of filter f; every other tensor θ̄'s)
    min_s  L_D(θ(s)) / L_D(θ) + β · mean_f σ(s_f)

with L_D(θ) = Σ (f_θ(x_D) − y)² over the training images of D, Adam, ``steps`` full-batch steps from
s = 0.01·N(0, 1) (seeded); the ranking of D is descending s. The mask is trained on the images it is given:
evaluate it on others (notebook 10 splits them). Its training seconds are in ``info['training_seconds']``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..colours import COLORBLIND
from ..degradations import DatasetRoot, degradation_set
from ..errors import AttributionError
from .base import Attribution, FilterScores
from .numerics import check_finite
from .refine import DEFAULT_QUADRATURE, DEFAULT_STEPS
from .registry import register

__all__ = ["LearnedMask"]


@register(name="mask", label="learned mask", colour=COLORBLIND[6], order=70, inputs=("gt", "degraded"),
          paper=False)
class LearnedMask(Attribution):
    """Per degradation: logits s, model θ̄ + σ(s) ⊙ τ filter-wise, trained on D's inputs against the ground truth
    with a sparsity penalty; ranking = descending s."""

    steps, lr, sparsity = 60, 0.05, 0.1

    def settings(self, n_steps: int, quadrature: str, degradations: Sequence[str]) -> dict:
        return dict(method=self.name, degradations=list(degradations), steps=self.steps, lr=self.lr,
                    sparsity=self.sparsity, seed=self.seed, precision=self.precision)

    def _params(self, s: torch.Tensor) -> dict[str, torch.Tensor]:
        p, out = self.path, {}
        m = torch.sigmoid(s)
        pos = {n: k for k, n in enumerate(self.index.names)}
        for n in p.names:
            if n not in pos:
                out[n] = p.theta_bar[n]
                continue
            k = pos[n]
            a, b = self.index.shapes[k]
            f = int(self.index.offsets[k])
            mk = m[f:f + a * b].reshape(a, b, 1, 1) if self.index.kind(k) != "linear" else m[f:f + a * b].reshape(a, 1)
            out[n] = p.theta_bar[n] + mk * (p.theta[n] - p.theta_bar[n])
        return out

    def _loss(self, params: dict[str, torch.Tensor], xs: list[torch.Tensor], ys: list[torch.Tensor]) -> torch.Tensor:
        total = 0.0
        for x, y in zip(xs, ys):
            with self.autocast():
                out = self.path(x, params)
            total = total + ((out.float() - y.to(self.device)) ** 2).sum()
        return total

    def _train(self, data: DatasetRoot, d: str, progress: bool) -> np.ndarray:
        g = torch.Generator().manual_seed(self.seed)
        s = (0.01 * torch.randn(len(self.index), generator=g, dtype=torch.float32)).to(self.device).requires_grad_()
        xs, ys = data.inputs[d], data.gt
        with torch.no_grad():
            scale = float(self._loss(self.path.params(0.0), xs, ys))  # L_D at the target θ
        if not scale > 0:
            raise AttributionError(f"mask: the target restores the '{d}' training images exactly (loss 0): nothing "
                                   "to localize")
        opt = torch.optim.Adam([s], lr=self.lr)
        for _ in tqdm(range(self.steps), desc=f"mask {d}", disable=not progress, leave=False):
            opt.zero_grad()
            loss = self._loss(self._params(s), xs, ys) / scale + self.sparsity * torch.sigmoid(s).mean()
            check_finite(loss.detach(), f"mask loss on '{d}'")
            loss.backward()
            opt.step()
        return s.detach().double().cpu().numpy()

    def attribute(self, data: DatasetRoot | None = None, *, n_steps: int = DEFAULT_STEPS,
                  quadrature: str = DEFAULT_QUADRATURE, progress: bool = True, cache_dir=None, engine=None,
                  degradations: Sequence[str] | None = None, refresh: bool = False) -> FilterScores:
        """Train one mask per degradation on ``data`` (all its images at every step; no engine, no cache)."""
        if data is None or not len(data):
            raise AttributionError(f"{self.name} needs training images")
        degs = degradation_set(data.degradations if degradations is None else degradations)
        data = data.select(degs)
        t0 = time.perf_counter()
        scores = {d: self._train(data, d, progress) for d in degs}
        info = dict(self.settings(n_steps, quadrature, degs), filters=len(self), images=list(data.names),
                    training_seconds=time.perf_counter() - t0)
        return FilterScores(self.name, scores, info=info)

    def reduce(self, results: list, degradations: list[str], info: dict) -> FilterScores:
        raise NotImplementedError("LearnedMask trains in attribute(); it has no per-image results")
