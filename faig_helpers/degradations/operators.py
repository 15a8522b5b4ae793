"""The image operators of the degradation registry and the one pipeline that applies them.

Per HR image y in [0, 1] (as the original ``generate_lr.py``; saved results are 8-bit):

* ``clean``:         x = Q(D_s(y))
* ``blur`` (σ = 2):  x = Q(D_s(k_σ * y)),  k_σ isotropic Gaussian, size 21, reflect-101 border
* ``noise`` (σ = 0.1): x = Q(D_s(y) + n),  n ~ N(0, σ²), seeded per file name
* ``jpeg`` (q = 50): x = J_q(Q(D_s(y))),  J_q = OpenCV's JPEG encode + decode at quality q, as BasicSR's
  ``add_jpg_compression``
* compositions in the written order, e.g. ``blur+noise+jpeg``: x = J_q(Q(D_s(k_σ * y) + n)) — the
  order of Real-ESRGAN's pipeline (blur → resize → noise → JPEG)

D_s is the ×s bilinear (OpenCV ``INTER_LINEAR`` at ×2) downsampling, i.e. the mean of each s×s block;
Q rounds and clips to 8 bit. :func:`pipeline` is the one implementation of this order: named degradations
(:meth:`~faig_helpers.degradations.names.Degradation.apply`) and the training batches
(:func:`~faig_helpers.train.degrade_batch`) both call it, so train and test degradations are identical.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DegradationError
from ..registry import Registry

__all__ = ["BLUR_KERNEL", "gaussian_kernel", "downsample", "blur", "add_noise", "quantize", "jpeg",
           "seeded_generator", "Operator", "OPERATORS", "Step", "pipeline"]

BLUR_KERNEL = 21  # size of the Gaussian blur kernel (the original's)


def gaussian_kernel(size: int = BLUR_KERNEL, sigma: float = 2.0) -> torch.Tensor:
    """Normalised isotropic Gaussian k(u, v) ∝ exp(−(u² + v²) / 2σ²) on a size×size grid."""
    ax = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma**2))
    return (g / g.sum()).float()


def downsample(x: torch.Tensor, scale: int = 2) -> torch.Tensor:
    """×scale bilinear downsampling (mean over scale×scale blocks, as OpenCV INTER_LINEAR at ×2)."""
    return F.avg_pool2d(x, scale)


def blur(x: torch.Tensor, sigma: float = 2.0, size: int = BLUR_KERNEL) -> torch.Tensor:
    """Depthwise Gaussian blur k_σ * x of a (N, C, H, W) batch with reflect-101 borders (cv2.filter2D)."""
    k = gaussian_kernel(size, sigma).to(x)
    c = x.shape[1]
    pad = size // 2
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(xp, k.expand(c, 1, size, size), groups=c)


def add_noise(x: torch.Tensor, sigma: float = 0.1, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + n, n ~ N(0, σ²) drawn from ``generator``."""
    return x + sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round and clip to 8-bit levels, as saving to PNG does."""
    return torch.clamp(torch.round(x * 255.0), 0, 255) / 255.0


def jpeg(x: torch.Tensor, quality: float = 50) -> torch.Tensor:
    """J_q(x): each RGB image of a (N, 3, H, W) batch in [0, 1], quantised to 8 bit, encoded and decoded by
    OpenCV's JPEG codec at quality q (BGR order, as ``cv2.imread`` images and BasicSR's ``add_jpg_compression``)."""
    out = []
    for img in quantize(x.detach().float().cpu()):
        bgr = np.ascontiguousarray((img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)[..., ::-1])
        ok, buf = cv2.imencode(".jpg", bgr, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
        if not ok:
            raise DegradationError(f"OpenCV could not JPEG-encode a {tuple(img.shape)} image at quality {quality}")
        dec = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0
        out.append(torch.from_numpy(np.ascontiguousarray(dec)).permute(2, 0, 1))
    return torch.stack(out).to(x)


def seeded_generator(seed: int, name: str) -> torch.Generator:
    """The one seeded random stream per (seed, image or input name): noise does not depend on the order of
    the images or on which other images exist, so every rerun is byte-identical."""
    return torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % (2**63))


@dataclass(frozen=True)
class Operator:
    """One degradation operator: what it is called, where it acts (on the HR image before D_s, on the LR
    image after it, or on the 8-bit LR image) and its default strength."""

    name: str  # 'blur': the operator in degradation names ('blur', 'blur1', 'blur+noise')
    stage: int  # 0: on HR (before downsampling); 1: on LR; 2: on the 8-bit LR image
    default: float  # default strength (σ, σ, quality)
    symbol: str  # the strength's symbol, for tables ('σ', 'q')
    input: str  # an input that carries it: 'blurry'
    function: str  # what undoes it, and its filters' name: 'deblur'
    apply: Callable[[torch.Tensor, float, torch.Generator | None], torch.Tensor]

    def check(self, strength: float) -> None:
        """Raise :class:`DegradationError` for a strength this operator cannot use."""
        if self.name == "jpeg" and not (1 <= strength <= 100 and float(strength).is_integer()):
            raise DegradationError(f"JPEG quality must be an integer in [1, 100], got {strength:g}")
        if self.name != "jpeg" and not strength > 0:
            raise DegradationError(f"{self.name} strength {self.symbol} must be > 0, got {strength:g}")


#: the operator registry: a new operator is one ``OPERATORS.register(Operator(...))``
OPERATORS: Registry[Operator] = Registry("degradation operator", DegradationError)
for _op in (
    Operator("blur", 0, 2.0, "σ", "blurry", "deblur", lambda x, s, g: blur(x, s)),
    Operator("noise", 1, 0.1, "σ", "noisy", "denoise", lambda x, s, g: add_noise(x, s, g)),
    Operator("jpeg", 2, 50.0, "q", "JPEG", "deJPEG", lambda x, s, g: jpeg(x, s)),
):
    OPERATORS.register(_op)

#: one step of :func:`pipeline`: (operator name, strength, the samples it acts on: a (N,) bool mask, None: all)
Step = tuple[str, float, torch.Tensor | None]


def pipeline(hr: torch.Tensor, steps: Iterable[Step], scale: int = 2,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """The degradation pipeline, x = J(Q(D_s(k * y) + n)): the degraded 8-bit LR batch of an HR batch
    (N, C, H, W) in [0, 1] — operators on HR (stage 0), D_s, operators on LR (stage 1), Q, then operators
    on the 8-bit image (stage 2); within a stage in the order of ``steps``, all drawing from ``generator``.

    A step with a mask acts on the selected samples only (training mixes: each sample its own degradation).
    HR and 8-bit operators run on those samples alone; LR operators (noise) are drawn for the whole batch and
    kept where selected, so the random stream does not depend on the selection.
    """
    steps = [(OPERATORS[op], s, mask) for op, s, mask in steps]
    x = hr
    for stage in (0, 1, 2):
        if stage == 1:
            x = downsample(x, scale)
        elif stage == 2:
            x = quantize(x)
        for op, s, mask in steps:
            if op.stage != stage:
                continue
            if mask is None:
                x = op.apply(x, s, generator)
            elif stage == 1:
                x = torch.where(mask[:, None, None, None], op.apply(x, s, generator), x)
            elif mask.any():
                x = x.index_put((mask,), op.apply(x[mask], s, generator))
    return x
