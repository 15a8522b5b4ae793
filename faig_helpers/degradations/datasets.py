"""Dataset roots in the original FAIG folder layout: building one from HR images, reading its manifest and
loading its images.

GT ``GTmod12``, clean ``Linear_LRbicx2`` and one LR folder per degradation
(:attr:`~faig_helpers.degradations.names.Degradation.folder`). A dataset root records its degradations in
``degradations.json``; a root without one is read as the original layout (blur and noise).
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..errors import DegradationError, ImageError
from ..images import crop, crop_box, list_images, mod_crop, read_image, to_image, to_tensor, write_image
from ..io_utils import atomic_write_text
from .names import CLEAN, CLEAN_FOLDER, GT_FOLDER, PAPER_SET, degradation, degradation_set
from .operators import quantize, seeded_generator

__all__ = ["GT_FOLDER", "CLEAN_FOLDER", "MANIFEST", "read_manifest", "build_dataset_root", "DatasetRoot",
           "load_dataset"]

MANIFEST = "degradations.json"


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
