"""Local attribution maps (LAM; Gu & Dong, "Interpreting Super-Resolution Networks with Local Attribution Maps",
CVPR 2021): which *input pixels* an SR network uses for one output patch, and how widely (the diffusion index).

For an output box B = (x, y, s) (column, row, size in output pixels) the detector is the gradient magnitude of
the output summed over the box (LAM's ``attr_grad``):

    D(F(I)) = Σ_{(r, c) ∈ B} Σ_channels √((F_{r,c} − F_{r+1,c})² + (F_{r,c} − F_{r,c+1})²)

The path goes from a strongly blurred input to the input itself: γ(α) = I ⊛ G(σ₀(1 − α)), σ₀ = 1.2 (LAM's
default), Gaussian kernels of size 9, sampled at ``fold`` = 50 points σ_k = σ₀(1 − k/fold); integrated gradients
along it (LAM's ``Path_gradient`` + ``saliency_map_PG``):

    LAM = (1/fold) Σ_{k=1}^{fold} ∂D/∂I |_{γ_k} ⊙ (I ⊛ (G(σ_k) − G(σ_{k−1})) · fold)

The map is |Σ_channels LAM| normalised to a maximum of 1 (H × W of the LR input); the diffusion index is
DI = (1 − Gini(map)) × 100 (larger: the network uses a wider area). Blurs use reflect-101 borders, as OpenCV's
``filter2D``. Any network the lab loads, any scale and device; for a pair and a filter set, the maps of the
target, of the target with the set substituted and of the baseline (:func:`pair_maps`).

>>> from faig_helpers.archs import SRVGGNetCompact
>>> model = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2).eval()
>>> lr = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
>>> r = local_attribution_map(model, lr, box=(8, 8, 8), fold=5)   # box (x, y, size) in output pixels
>>> r.map.shape, bool(r.map.min() >= 0), 0 <= r.di <= 100
((16, 16), True, True)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .archs import input_size_rule
from .errors import ConfigError

__all__ = ["LAM_SIGMA", "LAM_FOLD", "LAM_KERNEL", "LamResult", "gaussian_kernel", "blur_path", "box_detector",
           "gini", "diffusion_index", "local_attribution_map", "pair_maps", "central_box", "substitution_di"]

LAM_SIGMA, LAM_FOLD, LAM_KERNEL = 1.2, 50, 9


@dataclass
class LamResult:
    """``map``: (H, W) in [0, 1], |Σ_channels attribution| / its maximum; ``attribution``: (C, H, W), signed;
    ``di``: the diffusion index; ``output``: the network's output on the input, (1, C, sH, sW); ``box``."""

    map: np.ndarray
    attribution: np.ndarray
    di: float
    output: torch.Tensor
    box: tuple[int, int, int]


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """An isotropic Gaussian kernel of ``size`` × ``size`` (σ + 10⁻⁵, so σ = 0 is the identity), summing to 1."""
    ax = np.arange(size, dtype=np.float64) - (size - 1) // 2 if size % 2 else np.arange(size) - size // 2 + 1.0
    xx, yy = np.meshgrid(ax, ax)
    k = np.exp(-(xx ** 2 + yy ** 2) / (2.0 * (sigma + 1e-5) ** 2))
    return k / k.sum()


def _filter(x: torch.Tensor, kernel: np.ndarray) -> torch.Tensor:
    """Each channel of (1, C, H, W) correlated with ``kernel``, reflect-101 borders (OpenCV's default)."""
    k = torch.as_tensor(kernel, dtype=x.dtype, device=x.device)
    c, (kh, kw) = x.shape[1], k.shape
    pad = (kw // 2, kw - 1 - kw // 2, kh // 2, kh - 1 - kh // 2)
    return F.conv2d(F.pad(x, pad, mode="reflect"), k.expand(c, 1, kh, kw).contiguous(), groups=c)


def blur_path(lr: torch.Tensor, sigma: float = LAM_SIGMA, fold: int = LAM_FOLD, kernel_size: int = LAM_KERNEL
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The progressive-blur path of a (1, C, H, W) input: (γ_k, dγ/dα at k) for k = 1..fold, each (fold, C, H, W),
    computed in float64 (σ_k = σ(1 − k/fold); γ_fold is the input)."""
    x = lr.double()
    sigmas = np.linspace(sigma, 0.0, fold + 1)
    kernels = [gaussian_kernel(kernel_size, s) for s in sigmas]
    images = torch.cat([_filter(x, kernels[k + 1]) for k in range(fold)])
    slopes = torch.cat([_filter(x, (kernels[k + 1] - kernels[k]) * fold) for k in range(fold)])
    return images, slopes


def box_detector(out: torch.Tensor, box: tuple[int, int, int]) -> torch.Tensor:
    """LAM's detector: the output's gradient magnitude (forward differences) summed over ``box`` = (x, y, size)
    and over the batch."""
    x, y, s = box
    dr = (out[:, :, :-1, :] - out[:, :, 1:, :]) ** 2
    dc = (out[:, :, :, :-1] - out[:, :, :, 1:]) ** 2
    mag = torch.sqrt(dr[:, :, :, :-1] + dc[:, :, :-1, :])
    return mag[:, :, y:y + s, x:x + s].sum()


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (shifted to ≥ 0 if any is negative; + 10⁻⁷ so none is 0), as LAM:
    G = Σ_i (2i − n − 1) v_(i) / (n Σ v), v sorted ascending, i = 1..n."""
    v = np.asarray(values, dtype=np.float64).ravel().copy()
    if v.min() < 0:
        v -= v.min()
    v = np.sort(v + 1e-7)
    n = len(v)
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * v) / (n * v.sum()))


def diffusion_index(lam_map: np.ndarray) -> float:
    """DI = (1 − Gini(map)) × 100: how widely the attribution spreads over the input (LAM's measure)."""
    return (1.0 - gini(lam_map)) * 100.0


def _check(model_or_fn, lr: torch.Tensor, box: tuple[int, int, int], scale: int, sigma: float, fold: int,
           kernel_size: int, minimum: int) -> tuple[int, int, int]:
    if lr.ndim != 4 or lr.shape[0] != 1:
        raise ConfigError(f"the LR input must be one image, (1, C, H, W); got shape {tuple(lr.shape)}")
    h, w = lr.shape[-2:]
    if min(h, w) < minimum:
        raise ConfigError(f"the image is {h}×{w} LR pixels, but {type(model_or_fn).__name__} needs at least "
                          f"{minimum}: use a larger image")
    try:
        x, y, s = (int(v) for v in box)
    except (TypeError, ValueError):
        raise ConfigError(f"box must be (x, y, size) in output pixels, got {box!r}") from None
    if s < 1:
        raise ConfigError(f"the box size must be at least 1 output pixel, got {s}")
    if x < 0 or y < 0 or x + s > w * scale - 1 or y + s > h * scale - 1:
        raise ConfigError(f"box (x {x}, y {y}, size {s}) is not inside the {w * scale}×{h * scale} output (the "
                          f"gradient map is {w * scale - 1}×{h * scale - 1}: x + size and y + size at most that)")
    if fold < 1 or sigma < 0 or kernel_size < 1:
        raise ConfigError(f"LAM needs fold ≥ 1, σ ≥ 0 and a kernel of ≥ 1 pixel; got {fold}, {sigma}, {kernel_size}")
    return x, y, s


def local_attribution_map(model: nn.Module | Callable[[torch.Tensor], torch.Tensor], lr: torch.Tensor,
                          box: tuple[int, int, int], *, sigma: float = LAM_SIGMA, fold: int = LAM_FOLD,
                          kernel_size: int = LAM_KERNEL, scale: int | None = None, batch: int = 10,
                          device: str | torch.device | None = None) -> LamResult:
    """LAM of ``model`` (a module, or a callable with gradients, e.g. a modulated model's forward) for the output
    ``box`` = (x, y, size) of a (1, C, H, W) LR input in [0, 1] (see the module docstring); ``batch`` path points
    per forward. ``scale``: the network's (None: from the model)."""
    from .archs import model_scale

    module = model if isinstance(model, nn.Module) else None
    dev = torch.device(device) if device is not None else (
        next(module.parameters()).device if module is not None else torch.device("cpu"))
    scale = scale or (model_scale(module) if module is not None else None)
    if scale is None:
        raise ConfigError("pass scale= for a callable that is not an nn.Module")
    minimum = input_size_rule(module)[0] if module is not None else 1
    box = _check(model, lr, box, scale, sigma, fold, kernel_size, minimum)
    images, slopes = blur_path(lr.cpu(), sigma, fold, kernel_size)
    total = torch.zeros(lr.shape[1:], dtype=torch.float64)
    with torch.enable_grad():
        for start in range(0, fold, batch):
            x = images[start:start + batch].float().to(dev).requires_grad_(True)
            out = model(x)
            (grad,) = torch.autograd.grad(box_detector(out, box), x)
            total += (torch.nan_to_num(grad.double().cpu()) * slopes[start:start + batch]).sum(0)
    attribution = (total / fold).numpy()
    summed = np.abs(attribution.sum(axis=0))
    lam_map = summed / summed.max() if summed.max() > 0 else summed
    with torch.no_grad():
        output = model(lr.to(dev)).cpu()
    return LamResult(lam_map, attribution, diffusion_index(lam_map), output, box)


def pair_maps(baseline: nn.Module, target: nn.Module, index: np.ndarray, lr: torch.Tensor, box: tuple[int, int, int],
              device: str | torch.device | None = None, **options) -> dict[str, LamResult]:
    """LAM of the target, of the target with the filters ``index`` substituted by the baseline's (the paper's
    masking) and of the baseline, on one input and box."""
    from .modulation import FilterModulator

    mod = FilterModulator(baseline, target, device=device).substitute(np.asarray(index))
    params, path = mod._params, mod.path
    scale = options.pop("scale", None)
    from .archs import model_scale

    scale = scale or model_scale(target)

    def substituted(x: torch.Tensor) -> torch.Tensor:
        return path(x, params)

    substituted.__name__ = type(target).__name__
    minimum = input_size_rule(target)[0]
    if min(lr.shape[-2:]) < minimum:
        raise ConfigError(f"the image is {lr.shape[-2]}×{lr.shape[-1]} LR pixels, but {type(target).__name__} needs "
                          f"at least {minimum}: use a larger image")
    return {"target": local_attribution_map(target, lr, box, device=device, **options, scale=scale),
            "substituted": local_attribution_map(substituted, lr, box, device=device or mod.device, scale=scale,
                                                 **options),
            "baseline": local_attribution_map(baseline, lr, box, device=device, **options, scale=scale)}


def central_box(lr: torch.Tensor, scale: int, size: int = 16) -> tuple[int, int, int]:
    """The output box of ``size`` (LAM's window: 16) at the centre of the output of a (1, C, H, W) input."""
    h, w = lr.shape[-2] * scale - 1, lr.shape[-1] * scale - 1
    size = min(size, h, w)
    return (w - size) // 2, (h - size) // 2, size


def substitution_di(baseline: nn.Module, target: nn.Module, sets: dict[str, dict[str, np.ndarray]],
                    inputs: dict[str, torch.Tensor], box: tuple[int, int, int],
                    device: str | torch.device | None = None, **options) -> pd.DataFrame:
    """DI of the target and of the target with each filter set substituted, on each input: ``sets`` is
    method → degradation → filter indices, ``inputs`` degradation → (1, C, H, W) LR input. One row per
    (method, set, input): di_target, di_substituted, change = di_substituted − di_target."""
    from .archs import model_scale
    from .modulation import FilterModulator

    scale = options.pop("scale", None) or model_scale(target)
    target_di = {d: local_attribution_map(target, x, box, device=device, scale=scale, **options).di
                 for d, x in inputs.items()}
    mod = FilterModulator(baseline, target, device=device)
    rows = []
    for method, by_deg in sets.items():
        for d, index in by_deg.items():
            mod.substitute(np.asarray(index))
            params = mod._params

            def substituted(x: torch.Tensor, params=params) -> torch.Tensor:
                return mod.path(x, params)

            for e, x in inputs.items():
                di = local_attribution_map(substituted, x, box, device=mod.device, scale=scale, **options).di
                rows.append(dict(method=method, set=d, input=e, di_target=target_di[e], di_substituted=di,
                                 change=di - target_di[e]))
    return pd.DataFrame(rows)
