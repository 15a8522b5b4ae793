"""Classical, no-network estimators: one image statistic per degradation operator, higher = more of it.

* blur:  −log₁₀ var(∇²Y), the variance of the Laplacian of the luma (the focus measure; blur lowers
  the variance, so its negative log rises with blur);
* noise: Donoho's σ̂ = median(|HH|) / 0.6745 on the finest diagonal Haar subband;
* JPEG:  the 8×8 blockiness B, the mean luma step across block boundaries over the mean step
  elsewhere (JPEG quantises each 8×8 block on its own, so steps concentrate on the block grid).

:data:`CLASSICAL` is the registry (operator name → :class:`Statistic`); a degradation that is not one
operator (e.g. ``blur+noise``), or whose operator has no entry, has no classical estimator:
:func:`classical_statistic` returns None and the tables say so.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..degradations import degradation
from ..errors import ConfigError, ImageError
from ..images import luma
from ..registry import Registry

__all__ = ["laplacian_variance", "noise_sigma_mad", "jpeg_blockiness", "Statistic", "CLASSICAL",
           "classical_statistic", "classical_scores"]

Image = torch.Tensor | np.ndarray


def laplacian_variance(img: Image) -> float:
    """var(∇²Y): the variance of the 4-neighbour Laplacian of the luma on the interior (the classical
    focus measure: blur lowers it, noise raises it)."""
    y = luma(img)
    if min(y.shape) < 3:
        raise ImageError(f"image of {y.shape} pixels is too small for a Laplacian")
    lap = y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4 * y[1:-1, 1:-1]
    return float(lap.var())


def noise_sigma_mad(img: Image) -> float:
    """Donoho's noise estimate σ̂ = median(|HH|) / 0.6745, HH = the finest diagonal subband of the
    orthonormal Haar wavelet, (a − b − c + d)/2 over 2×2 blocks (white noise of s.d. σ keeps s.d. σ
    there; image structure rarely reaches that band); per colour channel, averaged over channels."""
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu().double()
        chans = list((t[0] if t.ndim == 4 else t).numpy())
    else:
        a = np.asarray(img, dtype=np.float64)
        chans = [a] if a.ndim == 2 else list(np.moveaxis(a, 2, 0))
    h, w = (chans[0].shape[0] // 2) * 2, (chans[0].shape[1] // 2) * 2
    if not h or not w:
        raise ImageError(f"image of {chans[0].shape} pixels is too small for a 2×2 wavelet")
    sig = []
    for y in chans:
        y = y[:h, :w]
        hh = (y[0::2, 0::2] - y[0::2, 1::2] - y[1::2, 0::2] + y[1::2, 1::2]) / 2
        sig.append(np.median(np.abs(hh)) / 0.6745)
    return float(np.mean(sig))


def _grid_ratio(steps: np.ndarray, block: int, eps: float = 1e-6) -> float:
    """max over phases φ of (mean(steps at columns j ≡ φ mod block) + ε) / (mean(steps at the others) + ε)."""
    cols = np.arange(steps.shape[1])
    return max((steps[:, cols % block == phase].mean() + eps) / (steps[:, cols % block != phase].mean() + eps)
               for phase in range(block))


def jpeg_blockiness(img: Image, block: int = 8) -> float:
    """8×8 blockiness B = ½ (B_h + B_v), B_h = max over the 8 grid phases φ of
    (mean |Y[:, j+1] − Y[:, j]| over j ≡ φ (mod 8) + ε) / (the same mean over the other j + ε), ε = 10⁻⁶
    (B_v on rows): ≈ 1 without a block grid, > 1 when steps line up on one (JPEG). The phase is searched, so a crop of a
    JPEG image, whose grid need not start at its corner, is measured as well."""
    y = luma(img)
    if min(y.shape) < block + 1:
        raise ImageError(f"image of {y.shape} pixels is too small for a {block}×{block} block grid (need "
                         f"{block + 1})")
    return float((_grid_ratio(np.abs(np.diff(y, axis=1)), block) + _grid_ratio(np.abs(np.diff(y, axis=0)).T, block))
                 / 2)


@dataclass(frozen=True)
class Statistic:
    """A classical estimator of one operator: ``fn(image) → float``, higher = more of the operator."""

    operator: str
    label: str  # for tables: '−log₁₀ var(∇²Y)'
    column: str  # for CSV files: 'neg_log10_laplacian_var'
    fn: Callable[[Image], float]

    def __call__(self, img: Image) -> float:
        return float(self.fn(img))


#: the classical estimators, by operator: a new operator's estimator is one ``CLASSICAL.register(Statistic(...))``
CLASSICAL: Registry[Statistic] = Registry("classical estimator", ConfigError)
for _s in (
    Statistic("blur", "−log₁₀ var(∇²Y)", "neg_log10_laplacian_var",
              lambda x: -math.log10(max(laplacian_variance(x), 1e-300))),
    Statistic("noise", "σ̂ = median|HH| / 0.6745", "noise_sigma_mad", noise_sigma_mad),
    Statistic("jpeg", "8×8 blockiness", "jpeg_blockiness", jpeg_blockiness),
):
    CLASSICAL.register(_s, name=_s.operator)


def classical_statistic(name: str) -> Statistic | None:
    """The classical estimator of a degradation that is one operator ('blur', 'noise0.05', 'jpeg30'); None
    for a composition or an operator without one."""
    steps = degradation(name).steps
    return CLASSICAL.get(steps[0][0]) if len(steps) == 1 else None


def classical_scores(images: Sequence[Image], name: str) -> np.ndarray | None:
    """The classical statistic of degradation ``name`` on every image (None: it has no estimator)."""
    stat = classical_statistic(name)
    return None if stat is None else np.array([stat(x) for x in images], dtype=np.float64)
