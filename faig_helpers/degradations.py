"""Degradations as data: a registry of operators with strengths, named degradations built from them,
and dataset roots in the original FAIG folder layout.

Per HR image y in [0, 1] (as the original ``generate_lr.py``; saved results are 8-bit):

* ``clean``:         x = Q(D_s(y))
* ``blur`` (σ = 2):  x = Q(D_s(k_σ * y)),  k_σ isotropic Gaussian, size 21, reflect-101 border
* ``noise`` (σ = 0.1): x = Q(D_s(y) + n),  n ~ N(0, σ²), seeded per file name
* ``jpeg`` (q = 50): x = J_q(Q(D_s(y))),  J_q = OpenCV's JPEG encode + decode at quality q, as BasicSR's
  ``add_jpg_compression``
* compositions in the written order, e.g. ``blur+noise+jpeg``: x = J_q(Q(D_s(k_σ * y) + n)) — the
  order of Real-ESRGAN's pipeline (blur → resize → noise → JPEG)

D_s is the ×s bilinear (OpenCV ``INTER_LINEAR`` at ×2) downsampling, i.e. the mean of each s×s block;
Q rounds and clips to 8 bit. A strength other than the default is written after the operator:
``blur1``, ``noise0.05``, ``jpeg30``, ``blur3+noise0.2``. The same code degrades the training batches,
so train and test degradations are identical.

**Folders.** GT ``GTmod12``, clean ``Linear_LRbicx2``, default blur ``Blur2_LRbicx2`` and default noise
``LRbicx2_noise0.1`` (the original's names, at every scale); every other degradation
``LRbicx2_{name with every strength written out}``, e.g. ``LRbicx2_jpeg50``, ``LRbicx2_blur1+noise0.1``.
A dataset root records its degradations in ``degradations.json``; a root without one is read as the
original layout (blur and noise).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .errors import DegradationError, ImageError
from .images import crop, crop_box, list_images, mod_crop, read_image, to_image, to_tensor, write_image
from .io_utils import atomic_write_text
from .registry import Registry

__all__ = ["gaussian_kernel", "downsample", "blur", "add_noise", "jpeg", "quantize", "seeded_generator", "Operator",
           "OPERATORS", "Degradation", "degradation", "degradation_set", "PAPER_SET", "CLEAN", "GT_FOLDER",
           "CLEAN_FOLDER", "MANIFEST", "DatasetRoot", "build_dataset_root", "read_manifest", "load_dataset", "main"]

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
GT_FOLDER, CLEAN_FOLDER = "GTmod12", "Linear_LRbicx2"
MANIFEST = "degradations.json"
#: the original layout's folder names of the default blur and noise
_ORIGINAL_FOLDERS = {(("blur", 2.0),): "Blur2_LRbicx2", (("noise", 0.1),): "LRbicx2_noise0.1"}
_ORIGINAL_MASKS = {"blur": "maskdeblurfilter", "noise": "maskdenoisefilter"}


@dataclass(frozen=True)
class Degradation:
    """A named degradation: operators with strengths, applied in order (``steps``; empty = clean)."""

    steps: tuple[tuple[str, float], ...]

    @property
    def name(self) -> str:
        """'blur', 'noise0.05', 'blur+jpeg30', … (default strengths are not written); 'clean' for none."""
        return "+".join(op if s == OPERATORS[op].default else f"{op}{s:g}" for op, s in self.steps) or "clean"

    @property
    def full_name(self) -> str:
        """The name with every strength written out: 'blur2', 'jpeg50', 'blur2+noise0.1'."""
        return "+".join(f"{op}{s:g}" for op, s in self.steps) or "clean"

    @property
    def input(self) -> str:
        """How an input that carries it is called in tables: 'blurry', 'noisy', 'blurry+JPEG', 'clean'."""
        words = [OPERATORS[op].input + ("" if s == OPERATORS[op].default else f" ({OPERATORS[op].symbol} {s:g})")
                 for op, s in self.steps]
        return "+".join(words) or "clean"

    @property
    def function(self) -> str:
        """What the target learned to undo, and its filters' name: 'deblur', 'denoise', 'deblur+deJPEG'."""
        words = [OPERATORS[op].function + ("" if s == OPERATORS[op].default else f" ({OPERATORS[op].symbol} {s:g})")
                 for op, s in self.steps]
        return "+".join(words) or "none"

    @property
    def folder(self) -> str:
        """LR folder of a dataset root (the original's names for the default blur and noise)."""
        if not self.steps:
            return CLEAN_FOLDER
        return _ORIGINAL_FOLDERS.get(self.steps, f"LRbicx2_{self.full_name}")

    @property
    def mask_folder(self) -> str:
        """Results folder of a model with these filters substituted (the original's for blur and noise)."""
        return _ORIGINAL_MASKS.get(self.name, f"mask{self.full_name}filter")

    def apply(self, hr: torch.Tensor, scale: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
        """The degraded 8-bit LR batch of an HR batch (N, C, H, W) in [0, 1]: HR operators, D_s, LR
        operators, Q, then operators on the 8-bit image."""
        x = hr
        for op, s in self.steps:
            if OPERATORS[op].stage == 0:
                x = OPERATORS[op].apply(x, s, generator)
        x = downsample(x, scale)
        for op, s in self.steps:
            if OPERATORS[op].stage == 1:
                x = OPERATORS[op].apply(x, s, generator)
        x = quantize(x)
        for op, s in self.steps:
            if OPERATORS[op].stage == 2:
                x = OPERATORS[op].apply(x, s, generator)
        return x

    def has(self, operator: str) -> bool:
        """Whether this degradation includes ``operator`` (at any strength)."""
        return any(op == operator for op, _ in self.steps)

    def __str__(self) -> str:
        return self.name


CLEAN = Degradation(())
_STEP = re.compile(r"([a-z]+)(\d+(?:\.\d+)?)?$")


def degradation(spec: str | Degradation) -> Degradation:
    """Parse a degradation name: operators of :data:`OPERATORS` joined by '+', each optionally followed by
    its strength ('blur', 'blur1', 'noise0.05', 'jpeg30', 'blur+noise+jpeg'); 'clean' is no operator. The
    order is the order of application and must follow the pipeline (blur, then noise, then JPEG)."""
    if isinstance(spec, Degradation):
        return spec
    text = str(spec).strip().lower()
    if text == "clean":
        return CLEAN
    steps = []
    for part in text.split("+"):
        m = _STEP.match(part.strip())
        if m is None or m.group(1) not in OPERATORS:
            raise DegradationError(f"unknown degradation '{spec}': expected operators {list(OPERATORS)} joined by '+', "
                                   "each optionally followed by a strength (e.g. 'blur1', 'noise0.05', 'jpeg30')")
        op = OPERATORS[m.group(1)]
        strength = float(m.group(2)) if m.group(2) else op.default
        op.check(strength)
        steps.append((op.name, strength))
    stages = [OPERATORS[op].stage for op, _ in steps]
    if stages != sorted(stages) or len({op for op, _ in steps}) != len(steps):
        raise DegradationError(f"degradation '{spec}': each operator once, in pipeline order "
                               f"({' → '.join(OPERATORS)}): blur acts on the HR image, noise and JPEG on the LR image")
    return Degradation(tuple(steps))


#: the paper's pair of degradations (the original layout's)
PAPER_SET = ("blur", "noise")


def degradation_set(names: Iterable[str | Degradation] | None = None) -> list[str]:
    """Canonical names of a set of N ≥ 2 distinct degradations (None: the paper's blur and noise)."""
    names = list(PAPER_SET if names is None else names)
    canon = [degradation(n).name for n in names]
    if len(canon) < 2 or len(set(canon)) != len(canon) or "clean" in canon:
        raise DegradationError(f"FAIG separates a set of at least two distinct degradations (not 'clean'), got {names}")
    return canon


def read_manifest(root: str | os.PathLike) -> dict:
    """A dataset root's manifest: {'degradations': [...], 'scale': s, 'seed': k}. A root without
    ``degradations.json`` is the original layout: blur and noise."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return dict(degradations=list(PAPER_SET))
    try:
        m = json.loads(path.read_text())
        degradation_set(m["degradations"])
    except (json.JSONDecodeError, KeyError, TypeError, DegradationError) as e:
        raise ImageError(f"{path}: expected {{'degradations': [two or more degradation names], ...}} ({e})") from None
    return m


def build_dataset_root(hr_folder: str | os.PathLike, root: str | os.PathLike, scale: int = 2, seed: int = 0,
                       degradations: Sequence[str] | None = None) -> Path:
    """Build ``root/{GTmod12, Linear_LRbicx2, one folder per degradation}`` from HR images, and its manifest.

    Each HR image is mod-cropped to ``scale``; random streams are seeded per (degradation, file name),
    with the original blur/noise layout's seeding for the first noisy folder, so reruns are byte-identical,
    adding an image changes no other, and the paper's folders are the same whatever else is built. PNG.
    """
    degs = [degradation(d) for d in degradation_set(degradations)]
    paths = list_images(hr_folder)
    if not paths:
        raise ImageError(f"{hr_folder}: no image files (.png, .jpg, ...) found")
    root = Path(root)
    for p in tqdm(paths, desc="degrading", leave=False):
        name = p.stem + ".png"
        hr = to_tensor(mod_crop(read_image(p), scale))
        write_image(root / GT_FOLDER / name, to_image(quantize(hr)))
        write_image(root / CLEAN_FOLDER / name, to_image(CLEAN.apply(hr, scale)))
        for d in degs:
            # the paper's folders draw from the image's own stream; others from a stream of their own
            gen = seeded_generator(seed, name if d.name in PAPER_SET else f"{d.full_name}/{name}")
            write_image(root / d.folder / name, to_image(d.apply(hr, scale, gen)))
    atomic_write_text(root / MANIFEST, json.dumps(dict(degradations=[d.name for d in degs], scale=scale, seed=seed,
                                                       folders={d.name: d.folder for d in degs}), indent=1) + "\n")
    return root


@dataclass
class DatasetRoot:
    """Evaluation images of a dataset root as (1, 3, H, W) RGB tensors: ground truth, the clean LR images
    (IG's path start; empty when not loaded) and the LR images of each degradation (``inputs``)."""

    names: list[str]
    gt: list[torch.Tensor]
    inputs: dict[str, list[torch.Tensor]]
    clean: list[torch.Tensor] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def degradations(self) -> list[str]:
        """The degradations whose inputs were loaded, in the root's order."""
        return list(self.inputs)

    def __getitem__(self, degradation_name: str) -> list[torch.Tensor]:
        """The LR images of one degradation (or 'clean')."""
        if degradation_name == "clean":
            return self.clean
        if degradation_name not in self.inputs:
            raise ImageError(f"no '{degradation_name}' inputs loaded: this dataset has {self.degradations}")
        return self.inputs[degradation_name]

    @property
    def scale(self) -> int:
        """Super-resolution factor: GT size / LR size (1 when no LR or no GT images were loaded)."""
        lrs = next((v for v in (*self.inputs.values(), self.clean) if v), [])
        return self.gt[0].shape[-1] // lrs[0].shape[-1] if lrs and self.gt else 1

    def image(self, i: int) -> tuple[torch.Tensor, ...]:
        """All tensors of image ``i`` that were loaded (gt, each degradation, clean)."""
        return tuple(ts[i] for ts in (self.gt, *self.inputs.values(), self.clean) if ts)

    def subset(self, n: int | None = None, size: int | None = None) -> "DatasetRoot":
        """The first ``n`` images, optionally centre-cropped to ``size``×``size`` LR pixels (GT cropped at the
        matching HR position), e.g. for quick checks that need many network evaluations."""
        names = self.names[:n]
        k, s = len(names), self.scale
        lrs = next((v for v in (*self.inputs.values(), self.clean) if v), [])
        boxes = [crop_box(lr.shape, size) for lr in lrs[:k]]

        def sl(ts: list[torch.Tensor], scale: int = 1) -> list[torch.Tensor]:
            return list(ts[:k]) if size is None else [crop(t, b, scale) for t, b in zip(ts[:k], boxes)]

        return DatasetRoot(names, sl(self.gt, s), {d: sl(v) for d, v in self.inputs.items()}, sl(self.clean))

    def split(self, n: int) -> tuple["DatasetRoot", "DatasetRoot"]:
        """(the first ``n`` images, the others): e.g. images a method learns from and images it is judged on."""
        if not 0 < n < len(self):
            raise ImageError(f"cannot split {len(self)} images into the first {n} and the rest: need 0 < n < "
                             f"{len(self)}")

        def part(sl: slice) -> "DatasetRoot":
            return DatasetRoot(self.names[sl], self.gt[sl], {d: v[sl] for d, v in self.inputs.items()},
                               self.clean[sl])

        return part(slice(0, n)), part(slice(n, None))

    def select(self, degradations: Sequence[str]) -> "DatasetRoot":
        """The same images with only the inputs of ``degradations`` (in that order)."""
        return DatasetRoot(self.names, self.gt, {d: self[d] for d in degradation_set(degradations)}, self.clean)


def load_dataset(root: str | os.PathLike, degradations: Sequence[str] | None = None, *, gt: bool = True,
                 clean: bool = True, limit: int | None = None) -> DatasetRoot:
    """Load a dataset root: GT, the clean LR folder and the folders of ``degradations`` (None: the root's own
    set, from its manifest; a root without one: blur and noise). Every folder must hold the same file names."""
    root = Path(root)
    if not root.is_dir():
        raise ImageError(f"{root}: dataset root not found")
    degs = degradation_set(read_manifest(root)["degradations"] if degradations is None else degradations)
    folders = {**({"gt": GT_FOLDER} if gt else {}), **{d: degradation(d).folder for d in degs},
               **({"clean": CLEAN_FOLDER} if clean else {})}
    lists = {}
    for k, folder in folders.items():
        if not (root / folder).is_dir():
            present = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise ImageError(f"{root}: missing folder '{folder}' for {k} (found {present}; build one with "
                             f"`python -m faig_helpers degrade HR_FOLDER {root} --degradations {' '.join(degs)}`)")
        lists[k] = {p.name: p for p in list_images(root / folder)}
    ref = next(iter(folders))
    names = sorted(lists[ref])
    if not names:
        raise ImageError(f"{root / folders[ref]}: no images")
    for k in folders:
        if set(lists[k]) != set(names):
            diff = sorted(set(lists[k]) ^ set(names))
            raise ImageError(f"{root}: '{folders[k]}' and '{folders[ref]}' hold different file names "
                             f"(e.g. '{diff[0]}')")
    names = names[:limit]
    data = {k: [to_tensor(read_image(lists[k][n])) for n in names] for k in folders}
    if gt:
        for k in folders:
            for n, lr, hr in zip(names, data[k], data["gt"]):
                if k != "gt" and (hr.shape[-1] % lr.shape[-1] or hr.shape[-2] % lr.shape[-2]):
                    raise ImageError(f"{root}: '{folders[k]}/{n}' is {tuple(lr.shape[-2:])}, "
                                     f"not a divisor of the GT size {tuple(hr.shape[-2:])}")
    return DatasetRoot(names, data.get("gt", []), {d: data[d] for d in degs}, data.get("clean", []))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m faig_helpers degrade",
                                 description="Build a dataset root (original folder layout + a manifest) "
                                             "from HR images.")
    ap.add_argument("hr_folder")
    ap.add_argument("root")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--degradations", nargs="+", default=list(PAPER_SET),
                    help=f"two or more of {list(OPERATORS)}, with strengths and '+' compositions "
                         "(e.g. blur noise jpeg30 blur+noise); default: blur noise")
    a = ap.parse_args(argv)
    try:
        print(build_dataset_root(a.hr_folder, a.root, a.scale, a.seed, a.degradations))
    except (DegradationError, ImageError) as e:
        ap.exit(2, f"error: {e}\n")

