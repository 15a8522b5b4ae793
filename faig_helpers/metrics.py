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
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .degradations import quantize
from .images import rgb_to_luma

__all__ = ["psnr", "gradient_map", "output_difference", "colour_shift", "MODES"]

MODES = ("gray", "original")


def psnr(img: torch.Tensor, ref: torch.Tensor, crop_border: int = 0) -> float:
    """PSNR in dB of [0, 1] RGB images after 8-bit quantisation: 10·log10(1 / MSE)."""
    a, b = quantize(img.detach().float().cpu()), quantize(ref.detach().float().cpu())
    if crop_border:
        a = a[..., crop_border:-crop_border, crop_border:-crop_border]
        b = b[..., crop_border:-crop_border, crop_border:-crop_border]
    mse = torch.mean((a.double() - b.double()) ** 2).item()
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def _single_channel(img: torch.Tensor, mode: str) -> torch.Tensor:
    img = quantize(img.float())
    if mode == "gray":
        return rgb_to_luma(img, 1)[:, None]
    if mode == "original":
        return img[:, 2:3]  # RGB order: index 2 is blue, the first channel of the BGR file
    raise ValueError(f"unknown gradient-map mode '{mode}': expected one of {MODES}")


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
        raise ValueError(f"expected two (N, C, H, W) batches of one shape, got {tuple(out.shape)} and {tuple(ref.shape)}")
    a, b = quantize(out.detach().float().cpu()).double(), quantize(ref.detach().float().cpu()).double()
    return ((a.mean(dim=(2, 3)) - b.mean(dim=(2, 3))).abs().amax(dim=1) * 255).numpy()
