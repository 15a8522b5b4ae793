"""Degradations and dataset roots in the original FAIG folder layout.

Per HR image y in [0, 1] (as the original ``generate_lr.py``):

* clean:  x = D₂(y)
* blur:   x = D₂(k_σ * y),  k_σ isotropic Gaussian, size 21, σ = 2, reflect-101 border
* noise:  x = D₂(y) + n,    n ~ N(0, 0.1²)

D₂ is the ×2 bilinear (OpenCV ``INTER_LINEAR``) downsampling, i.e. the mean of each 2×2 block.
Saved results are rounded and clipped to 8 bit. The same torch code degrades the training
batches, so train and test degradations are identical.
"""
from __future__ import annotations

import argparse
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .images import ImageError, list_images, mod_crop, read_image, to_image, to_tensor, write_image

__all__ = ["gaussian_kernel", "downsample", "blur", "add_noise", "degrade", "quantize", "Degradation",
           "DEGRADATIONS", "CLEAN", "GT_FOLDER", "FOLDERS", "DatasetRoot", "build_dataset_root", "load_dataset", "main"]


@dataclass(frozen=True)
class Degradation:
    """One degradation and every name it goes by (the project's single vocabulary table)."""

    name: str  # 'blur': DatasetRoot attribute, ranking file prefix ('blur_index.txt')
    input: str  # 'blurry': an input that carries it
    function: str  # 'deblur': what the target learned to undo, and its filters' name
    folder: str  # LR folder of the original dataset layout
    mask_folder: str  # original results folder of a model with these filters substituted

    @property
    def other(self) -> "Degradation":
        """The other degradation of the pair (blur ↔ noise)."""
        return DEGRADATIONS["noise" if self.name == "blur" else "blur"]


#: blur and noise, the two degradations FAIG separates
DEGRADATIONS = {
    "blur": Degradation("blur", "blurry", "deblur", "Blur2_LRbicx2", "maskdeblurfilter"),
    "noise": Degradation("noise", "noisy", "denoise", "LRbicx2_noise0.1", "maskdenoisefilter"),
}
#: clean ×s downsampling (IG's path start); it has no filters of its own
CLEAN = Degradation("clean", "clean", "", "Linear_LRbicx2", "")
GT_FOLDER = "GTmod12"
#: folder of each DatasetRoot attribute in the original layout (derived from the table above)
FOLDERS = {"gt": GT_FOLDER, **{d.name: d.folder for d in (*DEGRADATIONS.values(), CLEAN)}}


def gaussian_kernel(size: int = 21, sigma: float = 2.0) -> torch.Tensor:
    """Normalised isotropic Gaussian k(u, v) ∝ exp(−(u² + v²) / 2σ²) on a size×size grid."""
    ax = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma**2))
    return (g / g.sum()).float()


def downsample(x: torch.Tensor, scale: int = 2) -> torch.Tensor:
    """×scale bilinear downsampling (mean over scale×scale blocks, as OpenCV INTER_LINEAR at ×2)."""
    return F.avg_pool2d(x, scale)


def blur(x: torch.Tensor, size: int = 21, sigma: float = 2.0) -> torch.Tensor:
    """Depthwise Gaussian blur of a (N, C, H, W) batch with reflect-101 borders (cv2.filter2D)."""
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


def degrade(hr: torch.Tensor, kind: str, scale: int = 2, generator: torch.Generator | None = None,
            blur_sigma: float = 2.0, noise_sigma: float = 0.1) -> torch.Tensor:
    """Apply one degradation ('clean', 'blur' or 'noise') to an HR batch and quantize to 8 bit."""
    if kind == "clean":
        lr = downsample(hr, scale)
    elif kind == "blur":
        lr = downsample(blur(hr, 21, blur_sigma), scale)
    elif kind == "noise":
        lr = add_noise(downsample(hr, scale), noise_sigma, generator)
    else:
        raise ValueError(f"unknown degradation '{kind}': expected 'clean', 'blur' or 'noise'")
    return quantize(lr)


def _name_seed(seed: int, name: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % (2**63)


def build_dataset_root(hr_folder: str | os.PathLike, root: str | os.PathLike, scale: int = 2,
                       seed: int = 0) -> Path:
    """Build ``root/{GTmod12, Blur2_LRbicx2, LRbicx2_noise0.1, Linear_LRbicx2}`` from HR images.

    Each HR image is mod-cropped to ``scale``; noise is seeded per file name, so reruns are
    byte-identical and adding an image does not change the others. Written as PNG.
    """
    paths = list_images(hr_folder)
    if not paths:
        raise ImageError(f"{hr_folder}: no image files ({', '.join(('.png', '.jpg'))}, ...) found")
    root = Path(root)
    for p in tqdm(paths, desc="degrading", leave=False):
        name = p.stem + ".png"
        hr = to_tensor(mod_crop(read_image(p), scale))
        gen = torch.Generator().manual_seed(_name_seed(seed, name))
        write_image(root / FOLDERS["gt"] / name, to_image(quantize(hr)))
        for kind in ("blur", "noise", "clean"):
            write_image(root / FOLDERS[kind] / name, to_image(degrade(hr, kind, scale, gen)))
    return root


@dataclass
class DatasetRoot:
    """Evaluation images of a dataset root, as (1, 3, H, W) RGB tensors keyed by degradation."""

    names: list[str]
    gt: list[torch.Tensor]
    blur: list[torch.Tensor]
    noise: list[torch.Tensor]
    clean: list[torch.Tensor]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def scale(self) -> int:
        """Super-resolution factor: GT size / LR size (1 when no LR or no GT images were loaded)."""
        lrs = self.blur or self.noise or self.clean
        return self.gt[0].shape[-1] // lrs[0].shape[-1] if lrs and self.gt else 1

    def image(self, i: int) -> tuple[torch.Tensor, ...]:
        """All tensors of image ``i`` that were loaded (gt, blur, noise, clean order)."""
        return tuple(ts[i] for ts in (self.gt, self.blur, self.noise, self.clean) if ts)

    def subset(self, n: int | None = None, crop: int | None = None) -> "DatasetRoot":
        """The first ``n`` images, optionally centre-cropped to ``crop``×``crop`` LR pixels (GT cropped
        at the matching HR position), e.g. for quick checks that need many network evaluations."""
        names = self.names[:n]
        lrs = (self.blur or self.noise or self.clean)[:len(names)]

        def sl(ts: list[torch.Tensor]) -> list[torch.Tensor]:
            out = []
            for t, lr in zip(ts[:len(names)], lrs):
                if crop is None:
                    out.append(t)
                    continue
                r = t.shape[-1] // lr.shape[-1]
                top, left = (lr.shape[-2] - crop) // 2, (lr.shape[-1] - crop) // 2
                out.append(t[..., r * top:r * (top + crop), r * left:r * (left + crop)])
            return out

        return DatasetRoot(names, sl(self.gt), sl(self.blur), sl(self.noise), sl(self.clean))


def load_dataset(root: str | os.PathLike, kinds: Sequence[str] = ("gt", "blur", "noise", "clean"),
                 limit: int | None = None) -> DatasetRoot:
    """Load a dataset root in the original layout; every folder must hold the same file names."""
    root = Path(root)
    if not root.is_dir():
        raise ImageError(f"{root}: dataset root not found")
    lists = {}
    for k in kinds:
        folder = root / FOLDERS[k]
        if not folder.is_dir():
            raise ImageError(f"{root}: missing folder '{FOLDERS[k]}' (expected {sorted(FOLDERS.values())})")
        lists[k] = {p.name: p for p in list_images(folder)}
    ref = kinds[0]
    names = sorted(lists[ref])
    if not names:
        raise ImageError(f"{root / FOLDERS[ref]}: no images")
    for k in kinds[1:]:
        if set(lists[k]) != set(names):
            diff = sorted(set(lists[k]) ^ set(names))
            raise ImageError(f"{root}: '{FOLDERS[k]}' and '{FOLDERS[ref]}' hold different file names "
                             f"(e.g. '{diff[0]}')")
    names = names[:limit]
    data = {k: [to_tensor(read_image(lists[k][n])) for n in names] for k in kinds}
    for k in kinds:
        if k != "gt" and "gt" in data:
            for n, lr, hr in zip(names, data[k], data["gt"]):
                if hr.shape[-1] % lr.shape[-1] or hr.shape[-2] % lr.shape[-2]:
                    raise ImageError(f"{root}: '{FOLDERS[k]}/{n}' is {tuple(lr.shape[-2:])}, "
                                     f"not a divisor of the GT size {tuple(hr.shape[-2:])}")
    empty: list[torch.Tensor] = []
    return DatasetRoot(names, data.get("gt", empty), data.get("blur", empty), data.get("noise", empty),
                       data.get("clean", empty))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m faig_helpers degrade",
                                 description="Build a dataset root in the original folder layout.")
    ap.add_argument("hr_folder")
    ap.add_argument("root")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    print(build_dataset_root(a.hr_folder, a.root, a.scale, a.seed))
