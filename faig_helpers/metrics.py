"""Image metrics: PSNR and the paper's output difference on gradient-magnitude maps.

Output difference (paper §4.2): both outputs are quantised to 8 bit (as the original saved PNGs),
converted to gray, and mapped to M = √(dx² + dy² + 1e-6) with central differences
dx = I[i, j+1] − I[i, j−1], dy = I[i+1, j] − I[i−1, j] (zero padding). The difference is
mean((M_sub − M_target)²) × 1000 per image.

``mode='gray'`` uses luma Y = 0.299 R + 0.587 G + 0.114 B (what the paper describes);
``mode='original'`` reproduces the original code, which meant to read gray but read colour and
used the first stored channel, i.e. the *blue* channel.

Colour shift: for 8-bit quantised RGB outputs, max_c |mean(out_c) − mean(ref_c)| × 255, the largest
of the three channel-mean differences in 8-bit levels. A filter set whose substitution shifts the
mean colour carries more than deblurring or denoising.

PSNR and SSIM as the SR literature reports them (BasicSR 1.4.x ``calculate_psnr`` /
``calculate_ssim``): :func:`calculate_psnr` and :func:`calculate_ssim` take numpy images in [0, 255]
(HWC or CHW, BGR as ``cv2.imread`` gives), crop ``crop_border`` pixels from each edge and, with
``test_y_channel``, compare the BT.601 studio-swing luma Y = 16 + 65.481 R + 128.553 G + 24.966 B
(R, G, B in [0, 1]; Y in [16, 235]). :func:`psnr` and :func:`ssim` are the same metrics for
(1, 3, H, W) RGB tensors in [0, 1], quantised to 8 bit first.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .degradations import quantize
from .errors import ConfigError
from .images import rgb_to_luma

__all__ = ["psnr", "ssim", "calculate_psnr", "calculate_ssim", "to_y_channel", "gradient_map", "output_difference",
           "colour_shift", "measure", "MODES", "INPUT_ORDERS"]

MODES = ("gray", "original")


INPUT_ORDERS = ("HWC", "CHW")

# BT.601 studio-swing luma weights for [0, 1] inputs, in BGR order (the order cv2.imread gives)
_Y_WEIGHTS_BGR = np.array([24.966, 128.553, 65.481])
_SSIM_WINDOW, _SSIM_SIGMA = 11, 1.5
_SSIM_C1, _SSIM_C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def _check_crop(crop_border, h: int, w: int, min_size: int = 1) -> int:
    if isinstance(crop_border, bool) or not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ConfigError(f"crop_border must be an integer >= 0, got {crop_border!r}")
    crop_border = int(crop_border)
    if min(h, w) - 2 * crop_border < min_size:
        raise ConfigError(f"crop_border={crop_border} leaves {h - 2 * crop_border}×{w - 2 * crop_border} of a {h}×{w} "
                          f"image: expected at least {min_size}×{min_size} pixels after cropping")
    return crop_border


def _prepare(img, img2, crop_border, input_order: str, test_y_channel: bool, min_size: int = 1):
    """Validate, reorder to HWC, crop and (optionally) take Y: two float64 (H, W, C) arrays."""
    img, img2 = np.asarray(img), np.asarray(img2)
    if img.shape != img2.shape:
        raise ConfigError(f"image shapes differ: {img.shape} and {img2.shape}; expected two images of one shape")
    if input_order not in INPUT_ORDERS:
        raise ConfigError(f"input_order must be one of {INPUT_ORDERS}, got {input_order!r}")
    if img.ndim not in (2, 3) or img.dtype.kind not in "uif":
        raise ConfigError(f"expected numeric (H, W), (H, W, C) or (C, H, W) images, got shape {img.shape} "
                          f"of dtype {img.dtype}")
    if img.ndim == 2:
        img, img2 = img[..., None], img2[..., None]
    elif input_order == "CHW":
        img, img2 = img.transpose(1, 2, 0), img2.transpose(1, 2, 0)
    c = _check_crop(crop_border, img.shape[0], img.shape[1], min_size)
    if c:
        img, img2 = img[c:-c, c:-c], img2[c:-c, c:-c]
    if test_y_channel:
        img, img2 = to_y_channel(img), to_y_channel(img2)
    return img.astype(np.float64), img2.astype(np.float64)


def to_y_channel(img: np.ndarray) -> np.ndarray:
    """BGR (H, W, 3) in [0, 255] → (H, W, 1) float32 Y = 16 + 65.481 R + 128.553 G + 24.966 B, R, G, B in [0, 1].

    ITU-R BT.601 studio swing (Y in [16, 235]), not rounded; single-channel images pass through. The value is
    formed in float64 and rounded to float32 at the steps where BasicSR's ``to_y_channel`` rounds, so both agree
    to the last digit.
    """
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] not in (1, 3):
        raise ConfigError(f"the Y channel needs (H, W, 3) BGR or (H, W, 1) images, got shape {img.shape}")
    x = img.astype(np.float32) / np.float32(255.0)
    if img.shape[2] == 3:
        x = ((x.astype(np.float64) @ _Y_WEIGHTS_BGR + 16.0) / 255.0).astype(np.float32)[..., None]
    return x * np.float32(255.0)


def calculate_psnr(img, img2, crop_border, input_order="HWC", test_y_channel=False, **kwargs) -> float:
    """PSNR in dB of two [0, 255] images: 10·log10(255² / MSE), MSE over all cropped pixels and channels.

    ``crop_border`` pixels are dropped from each edge; ``test_y_channel`` compares the BT.601 Y of BGR
    images (:func:`to_y_channel`). Identical images give ``inf``. BasicSR 1.4.x's signature and value;
    extra keyword arguments are ignored, as there.
    """
    a, b = _prepare(img, img2, crop_border, input_order, test_y_channel)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 * 255.0 / mse))


def _gaussian_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable correlation of a 2-D array with the window g ⊗ g, 'valid' region only."""
    n, (h, w) = len(g), x.shape
    y = sum(g[k] * x[k:h - n + 1 + k] for k in range(n))
    return sum(g[k] * y[:, k:w - n + 1 + k] for k in range(n))


def _ssim_channel(x: np.ndarray, y: np.ndarray) -> float:
    g = cv2.getGaussianKernel(_SSIM_WINDOW, _SSIM_SIGMA)[:, 0].astype(np.float64)
    mu_x, mu_y = _gaussian_valid(x, g), _gaussian_valid(y, g)
    var_x = _gaussian_valid(x * x, g) - mu_x**2
    var_y = _gaussian_valid(y * y, g) - mu_y**2
    cov = _gaussian_valid(x * y, g) - mu_x * mu_y
    num = (2 * mu_x * mu_y + _SSIM_C1) * (2 * cov + _SSIM_C2)
    den = (mu_x**2 + mu_y**2 + _SSIM_C1) * (var_x + var_y + _SSIM_C2)
    return float(np.mean(num / den))


def calculate_ssim(img, img2, crop_border, input_order="HWC", test_y_channel=False, **kwargs) -> float:
    """SSIM of two [0, 255] images, per channel and averaged (one channel with ``test_y_channel``).

    SSIM = mean over the 'valid' region of ((2 μx μy + C1)(2 σxy + C2)) / ((μx² + μy² + C1)(σx² + σy² + C2)),
    local moments weighted by the 11×11 Gaussian window σ = 1.5 (``cv2.getGaussianKernel(11, 1.5)``),
    C1 = (0.01·255)², C2 = (0.03·255)² (Wang et al. 2004). Cropping and Y as :func:`calculate_psnr`; at least
    11×11 pixels must remain. BasicSR 1.4.x's signature and value; extra keyword arguments are ignored.
    """
    a, b = _prepare(img, img2, crop_border, input_order, test_y_channel, min_size=_SSIM_WINDOW)
    return float(np.mean([_ssim_channel(a[..., i], b[..., i]) for i in range(a.shape[2])]))


def _check_tensor_pair(img: torch.Tensor, ref: torch.Tensor) -> None:
    if tuple(img.shape) != tuple(ref.shape):
        raise ConfigError(f"image shapes differ: {tuple(img.shape)} and {tuple(ref.shape)}; "
                          "expected two tensors of one shape")
    if img.ndim < 2:
        raise ConfigError(f"expected (1, 3, H, W) image tensors, got shape {tuple(img.shape)}")


def _tensor_to_bgr255(t: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) or (C, H, W) RGB tensor in [0, 1] → 8-bit levels as a float64 HWC BGR array in [0, 255]."""
    t = t.detach().float().cpu()
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 3 or t.shape[0] not in (1, 3):
        raise ConfigError(f"expected a (1, 3, H, W) RGB (or (1, 1, H, W) gray) image tensor, got shape "
                          f"{tuple(t.shape)}")
    levels = torch.clamp(torch.round(t * 255.0), 0, 255)  # = quantize(t) · 255, exactly
    return np.ascontiguousarray(levels.permute(1, 2, 0).numpy()[..., ::-1], dtype=np.float64)


def psnr(img: torch.Tensor, ref: torch.Tensor, crop_border: int = 0, y_channel: bool = False) -> float:
    """PSNR in dB of [0, 1] RGB images after 8-bit quantisation: 10·log10(1 / MSE).

    With ``y_channel`` the BT.601 studio-swing Y is compared instead. Both equal :func:`calculate_psnr` on the
    same images as 8-bit BGR arrays: the Y path exactly, the default (RGB) path, kept as it always was, to
    ~1e-8 relative (it differences the float32 levels / 255).
    """
    _check_tensor_pair(img, ref)
    _check_crop(crop_border, img.shape[-2], img.shape[-1])
    if y_channel:
        return calculate_psnr(_tensor_to_bgr255(img), _tensor_to_bgr255(ref), crop_border, test_y_channel=True)
    a, b = quantize(img.detach().float().cpu()), quantize(ref.detach().float().cpu())
    if crop_border:
        a = a[..., crop_border:-crop_border, crop_border:-crop_border]
        b = b[..., crop_border:-crop_border, crop_border:-crop_border]
    mse = torch.mean((a.double() - b.double()) ** 2).item()
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def ssim(img: torch.Tensor, ref: torch.Tensor, crop_border: int = 0, y_channel: bool = False) -> float:
    """SSIM of (1, 3, H, W) RGB tensors in [0, 1] after 8-bit quantisation: :func:`calculate_ssim` on the
    same images as 8-bit BGR arrays (per-channel mean, or Y with ``y_channel``)."""
    _check_tensor_pair(img, ref)
    return calculate_ssim(_tensor_to_bgr255(img), _tensor_to_bgr255(ref), crop_border, test_y_channel=y_channel)


def _single_channel(img: torch.Tensor, mode: str) -> torch.Tensor:
    img = quantize(img.float())
    if mode == "gray":
        return rgb_to_luma(img, 1)[:, None]
    if mode == "original":
        return img[:, 2:3]  # RGB order: index 2 is blue, the first channel of the BGR file
    raise ConfigError(f"unknown gradient-map mode '{mode}': expected one of {MODES}")


def gradient_map(img: torch.Tensor, mode: str = "gray") -> torch.Tensor:
    """(N, 3, H, W) RGB → (N, 1, H, W) gradient magnitude √(dx² + dy² + 1e-6)."""
    x = _single_channel(img, mode)
    kh = x.new_tensor([[0, 0, 0], [-1, 0, 1], [0, 0, 0]]).view(1, 1, 3, 3)
    kv = x.new_tensor([[0, -1, 0], [0, 0, 0], [0, 1, 0]]).view(1, 1, 3, 3)
    dx, dy = F.conv2d(x, kh, padding=1), F.conv2d(x, kv, padding=1)
    return torch.sqrt(dx**2 + dy**2 + 1e-6)


def output_difference(out: torch.Tensor, ref: torch.Tensor, mode: str = "gray") -> np.ndarray:
    """Per-image mean((M(out) − M(ref))²) × 1000 for (N, 3, H, W) batches."""
    d = (gradient_map(out, mode) - gradient_map(ref, mode)) ** 2
    return (d.flatten(1).mean(1) * 1000).double().cpu().numpy()


def colour_shift(out: torch.Tensor, ref: torch.Tensor) -> np.ndarray:
    """Per-image max_c |mean(out_c) − mean(ref_c)| in 8-bit levels, for (N, 3, H, W) RGB batches."""
    if out.shape != ref.shape or out.ndim != 4:
        raise ConfigError(f"expected two (N, C, H, W) batches of one shape, got {tuple(out.shape)} "
                         f"and {tuple(ref.shape)}")
    a, b = quantize(out.detach().float().cpu()).double(), quantize(ref.detach().float().cpu()).double()
    return ((a.mean(dim=(2, 3)) - b.mean(dim=(2, 3))).abs().amax(dim=1) * 255).numpy()


def measure(outputs: Sequence[torch.Tensor], reference: Sequence[torch.Tensor] | None = None,
            gt: Sequence[torch.Tensor] | None = None, scale: int = 0, mode: str = "gray") -> dict[str, float]:
    """The row every experiment reports for a model's ``outputs`` on some inputs, averaged over images: with
    ``gt``, ``psnr`` (dB, RGB, border = ``scale``); with ``reference`` (e.g. the target's outputs on the same
    inputs), ``output_difference`` (:func:`output_difference`, ``mode``) and ``colour_shift`` (8-bit levels).

    >>> x = torch.full((1, 3, 8, 8), 0.5)
    >>> {k: round(v, 2) for k, v in measure([x + 4 / 255], reference=[x], gt=[x]).items()}
    {'psnr': 36.09, 'output_difference': 0.12, 'colour_shift': 4.0}
    """
    row = {}
    if gt is not None:
        row["psnr"] = float(np.mean([psnr(o, g, scale) for o, g in zip(outputs, gt)]))
    if reference is not None:
        row["output_difference"] = float(np.mean([output_difference(o, r, mode)[0]
                                                  for o, r in zip(outputs, reference)]))
        row["colour_shift"] = float(np.mean([colour_shift(o, r)[0] for o, r in zip(outputs, reference)]))
    return row
