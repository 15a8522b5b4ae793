"""Image I/O and conversions.

Arrays are float32 in [0, 1]. ``read_image`` returns HWC RGB by default (BGR on request);
grayscale inputs are replicated to 3 channels and RGBA is composited onto white.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from .io_utils import atomic_path
from .errors import ImageError

__all__ = ["ImageError", "read_image", "write_image", "to_tensor", "to_image", "mod_crop", "crop_box", "crop",
           "upscale_nearest", "to_uint8", "rgb_to_luma", "luma", "IMAGE_SUFFIXES", "list_images"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")



def read_image(path: str | os.PathLike, order: str = "rgb") -> np.ndarray:
    """Read an image file as float32 HWC in [0, 1], 3 channels, ``order`` 'rgb' or 'bgr'."""
    path = Path(path)
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ImageError(f"{path}: cannot be read as an image" + ("" if path.exists() else " (no such file)"))
    if img.dtype.kind == "f":  # float TIFF/EXR/PFM: taken as [0, 1] values
        if not np.isfinite(img).all():
            raise ImageError(f"{path}: holds {int((~np.isfinite(img)).sum())} non-finite pixel values (NaN/Inf)")
        img = img.astype(np.float32)
    else:
        img = img.astype(np.float32) / (65535.0 if img.dtype == np.uint16 else 255.0)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[2] == 4:
        alpha = img[..., 3:]
        img = img[..., :3] * alpha + (1.0 - alpha)
    elif img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[..., ::-1] if order == "rgb" else img)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round and clip a [0, 1] float image to uint8."""
    return np.clip(np.round(np.asarray(img, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def write_image(path: str | os.PathLike, img: np.ndarray, order: str = "rgb") -> Path:
    """Write a float [0, 1] HWC image (8 bit, atomically)."""
    arr = to_uint8(img)
    if arr.ndim == 3 and (arr == arr[..., :1]).all():  # gray stored as one channel
        arr = arr[..., 0]
    elif arr.ndim == 3 and order == "rgb":
        arr = arr[..., ::-1]
    path = Path(path)
    with atomic_path(path) as tmp:
        ok, buf = cv2.imencode(path.suffix or ".png", arr)
        if not ok:
            raise ImageError(f"{path}: could not encode image")
        tmp.write_bytes(buf.tobytes())
    return path


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """HWC float image → (1, C, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.asarray(img, np.float32).transpose(2, 0, 1)))[None]


def to_image(t: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) or (C, H, W) tensor → HWC float32 array clipped to [0, 1]."""
    t = t.detach().float().cpu()
    if t.ndim == 4:
        t = t[0]
    return t.clamp(0, 1).permute(1, 2, 0).numpy()


def mod_crop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop H and W down to multiples of ``scale`` (top-left kept)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def crop_box(shape: Sequence[int], size: int | None, centre: tuple[float, float] = (0.5, 0.5)
             ) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a ``size``×``size`` window in an image of ``shape`` (…, H, W); ``centre``
    places it (0: at the top / left edge, 1: at the bottom / right edge, ½: centred, rounded down). The
    whole image when ``size`` is None or not smaller."""
    h, w = int(shape[-2]), int(shape[-1])
    if size is None:
        return 0, 0, h, w
    ch, cw = min(size, h), min(size, w)
    return int(centre[0] * (h - ch)), int(centre[1] * (w - cw)), ch, cw


def crop(t: torch.Tensor, box: tuple[int, int, int, int], scale: int = 1) -> torch.Tensor:
    """The window ``box`` (top, left, h, w) of a (…, H, W) tensor, in the coordinates of an image ``scale``
    times smaller: ``crop(lr, box)`` and ``crop(gt, box, s)`` are the same region of an LR input and its GT."""
    top, left, h, w = (scale * v for v in box)
    return t[..., top:top + h, left:left + w]


def upscale_nearest(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour ×scale view of an LR input, for showing it beside the outputs."""
    return torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest")


def rgb_to_luma(img: torch.Tensor | np.ndarray, channel_dim: int = 1):
    """ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (RGB channel order)."""
    w = (0.299, 0.587, 0.114)
    if isinstance(img, torch.Tensor):
        r, g, b = img.unbind(channel_dim)
    else:
        r, g, b = np.moveaxis(np.asarray(img), channel_dim, 0)
    return w[0] * r + w[1] * g + w[2] * b


def luma(img: torch.Tensor | np.ndarray) -> np.ndarray:
    """A (1, 3, H, W) / (3, H, W) tensor or an HWC array (or an H×W one, returned as it is) → its 2-D luma Y
    (:func:`rgb_to_luma`), float64."""
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu().double()
        t = t[0] if t.ndim == 4 else t
        return rgb_to_luma(t, channel_dim=0).numpy()
    a = np.asarray(img, dtype=np.float64)
    return a if a.ndim == 2 else rgb_to_luma(a, channel_dim=2)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files of ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: no such folder")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
