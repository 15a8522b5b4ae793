"""The held-out test set of degradation prediction, and the calibration inputs.

**Test inputs** (:func:`build_test_set`): seeded crops of photos never used for training, at positions
away from the evaluation crops F_D is found on (:func:`pick_crops`, :func:`heldout_photos`); each crop
clean, with each degradation D of the pair's set at several strengths (D's own strength and those of
``strengths``), and mixed: any two degradations of the set at once, each at its own strength. Every
input is x = D.apply(y) of the degradation registry (:mod:`~faig_helpers.degradations`), the
training pipeline, on an HR window with a blur margin, then cropped; random streams come from
:func:`~faig_helpers.degradations.seeded_generator` per input name, so the set is identical on every
run and in any order.

**Calibration inputs** (:func:`calibration_inputs`): the dataset root's own clean and degraded images
(the ones F_D is found on), to calibrate thresholds on data disjoint from the test set.

**Decisions.** "Does x contain D?" is true when x carries every operator of D (any strength).
:meth:`InputSet.decision` picks the inputs one decision is judged on.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..degradations import (BLUR_KERNEL, CLEAN, OPERATORS, DatasetRoot, Degradation, degradation, degradation_set,
                            quantize, seeded_generator)
from ..errors import ConfigError, ImageError
from ..images import luma, to_tensor

__all__ = ["DegradedInput", "InputSet", "pick_crops", "heldout_photos", "load_photos", "hr_window", "input_variants",
           "build_test_set", "calibration_inputs"]

Box = tuple[int, int, int, int]  # top, left, height, width


@dataclass(frozen=True, eq=False)
class DegradedInput:
    """One LR input: its name, the crop it was cut from, the degradation applied (``CLEAN`` for none),
    its ``kind`` — 'clean', the degradation of the set it is a strength variant of, or the name of a
    mix of degradations of the set — and the LR input and HR crop, (1, 3, h, w) and (1, 3, s·h, s·w)."""

    name: str
    crop: str
    degradation: Degradation
    kind: str
    lr: torch.Tensor
    hr: torch.Tensor
    mixed: bool = False

    def has(self, operator: str) -> bool:
        """Whether the input carries ``operator`` ('blur', 'noise', 'jpeg'), at any strength."""
        if operator not in OPERATORS:
            raise ConfigError(f"unknown degradation operator '{operator}': expected one of {list(OPERATORS)}")
        return self.degradation.has(operator)

    def contains(self, name: str | Degradation) -> bool:
        """Whether the input carries every operator of degradation ``name`` (any strength): the label of
        the decision "does x contain D?"."""
        return all(self.degradation.has(op) for op, _ in degradation(name).steps)

    @property
    def strength(self) -> float:
        """The strength of the operator a single-operator kind varies (σ, q); NaN for clean inputs, mixes
        and compositions."""
        steps = self.degradation.steps
        return float(steps[0][1]) if len(steps) == 1 and not self.mixed else math.nan

    @property
    def at_set_strength(self) -> bool:
        """Clean, or degraded exactly as the set's degradation (or mix) it belongs to."""
        return self.degradation.name == self.kind


@dataclass
class InputSet:
    """Labelled LR inputs for the degradations of one set (``degradations``, in the set's order)."""

    inputs: list[DegradedInput]
    degradations: list[str]
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[DegradedInput]:
        return iter(self.inputs)

    def __getitem__(self, i: int) -> DegradedInput:
        return self.inputs[i]

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per input: name, crop, degradation (what was applied), kind, strength (NaN for clean
        inputs and mixes), set_strength (clean or at the set's own strength) and mixed."""
        return pd.DataFrame([dict(name=x.name, crop=x.crop, degradation=x.degradation.name, kind=x.kind,
                                  strength=x.strength, set_strength=x.at_set_strength, mixed=x.mixed)
                             for x in self.inputs],
                            columns=["name", "crop", "degradation", "kind", "strength", "set_strength", "mixed"])

    @property
    def mixes(self) -> list[str]:
        """The kinds of the mixed inputs, in order."""
        return list(dict.fromkeys(x.kind for x in self.inputs if x.mixed))

    def _check(self, name: str) -> None:
        if name not in self.degradations:
            raise ConfigError(f"'{name}' is not a degradation of this set: {self.degradations}")

    def contains(self, name: str) -> np.ndarray:
        """1[x contains D] for every input (the decision's labels)."""
        return np.array([x.contains(name) for x in self.inputs], dtype=bool)

    def strengths(self, name: str) -> list[float]:
        """The strengths degradation ``name`` of the set is tested at, ascending."""
        self._check(name)
        t = self.table
        return sorted(t.strength[(t.kind == name) & t.strength.notna()].unique().tolist())

    def decision(self, name: str, positives: str | float = "set", negatives: str = "set"
                 ) -> tuple[np.ndarray, np.ndarray]:
        """The inputs the decision "does x contain D?" is judged on, as (row mask, labels of those rows).
        Mixed inputs are left out (they are judged on their own); of the others, positives contain D,
        negatives do not. ``positives``: 'set' — at the set's strength; 'all' — any strength; a number —
        D's own strength variant at that strength only. ``negatives``: 'set' or 'all' likewise."""
        self._check(name)
        t = self.table
        label, single, at_set = self.contains(name), ~t.mixed.to_numpy(bool), t.set_strength.to_numpy(bool)
        if positives == "set":
            pos = label & at_set
        elif positives == "all":
            pos = label.copy()
        elif isinstance(positives, (int, float)):
            pos = label & (t.kind == name).to_numpy() & np.isclose(t.strength.to_numpy(float), positives)
        else:
            raise ConfigError(f"positives must be 'set', 'all' or a strength, got {positives!r}")
        if negatives not in ("set", "all"):
            raise ConfigError(f"negatives must be 'set' or 'all', got {negatives!r}")
        neg = ~label & (at_set if negatives == "set" else True)
        mask = single & (pos | neg)
        return mask, label[mask]

    def select(self, mask: np.ndarray) -> "InputSet":
        """The inputs of a boolean row mask."""
        return InputSet([x for x, m in zip(self.inputs, mask) if m], self.degradations, dict(self.info))

    def summary(self) -> pd.DataFrame:
        """How many inputs of each kind and degradation."""
        return self.table.groupby(["kind", "degradation"], sort=False).size().rename("inputs").to_frame()


def _overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes (top, left, height, width) share a pixel."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def pick_crops(photos: Mapping[str, np.ndarray], size: int, per_photo: int, seed: int = 0,
               avoid: Mapping[str, Sequence[Box]] | None = None, min_std: float = 0.04,
               tries: int = 2000) -> dict[str, np.ndarray]:
    """``per_photo`` seeded size×size crops of each HWC photo, overlapping neither each other nor the
    ``avoid`` boxes (top, left, h, w) of that photo, each with luma s.d. ≥ ``min_std`` (a flat crop
    carries no observable blur). Names: '{photo stem}_{top}_{left}'."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for name, img in photos.items():
        h, w = img.shape[:2]
        if h < size or w < size:
            raise ImageError(f"photo '{name}' ({h}×{w}) is smaller than a {size}-pixel crop")
        taken = list((avoid or {}).get(name, []))
        got = 0
        for _ in range(tries):
            if got == per_photo:
                break
            top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
            box = (top, left, size, size)
            crop = img[top:top + size, left:left + size]
            if any(_overlaps(box, b) for b in taken) or luma(crop).std() < min_std:
                continue
            taken.append(box)
            out[f"{name.rsplit('.', 1)[0]}_{top}_{left}"] = crop
            got += 1
        if got < per_photo:
            raise ImageError(f"photo '{name}': found only {got} of {per_photo} non-overlapping textured "
                             f"{size}-pixel crops; ask for fewer or smaller crops")
    return out


def heldout_photos() -> tuple[dict[str, np.ndarray], dict[str, list[Box]]]:
    """The embedded default's held-out photographs (from installed packages; never the training images)
    and, per photo, the boxes of the evaluation crops F_D is found on (to avoid)."""
    from ..embedded import EVAL_SIZE, EVAL_SOURCES, _sources
    from ..images import read_image

    try:
        sk, mpl = _sources()
    except ImportError as e:
        raise ImportError(f"the held-out photos ship with scikit-image and matplotlib ({e}); install "
                          "scikit-image or pass a folder of HR test images") from None
    src = {"scikit-image": sk, "matplotlib": mpl}
    photos: dict[str, np.ndarray] = {}
    avoid: dict[str, list[Box]] = {}
    for pkg, name, _, top, left in EVAL_SOURCES:
        if name not in photos:
            photos[name] = read_image(src[pkg] / name)
        avoid.setdefault(name, []).append((top, left, EVAL_SIZE, EVAL_SIZE))
    return photos, avoid


def load_photos(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every image of a folder of HR test photos, by file name (HWC RGB in [0, 1])."""
    from ..images import list_images, read_image

    photos = {p.name: read_image(p) for p in list_images(folder)}
    if not photos:
        raise ImageError(f"{folder}: no image files")
    return photos


def hr_window(scale: int, lr_size: int) -> int:
    """HR side of the window one test input is cut from: lr_size LR pixels plus a blur margin of
    m = ⌈(21 // 2) / scale⌉ LR pixels on each side (the radius of the blur kernel), times the scale."""
    return (lr_size + 2 * math.ceil((BLUR_KERNEL // 2) / scale)) * scale


def _mix(parts: Sequence[Degradation]) -> Degradation:
    steps = sorted((s for d in parts for s in d.steps), key=lambda s: OPERATORS[s[0]].stage)
    return degradation("+".join(f"{op}{v:g}" for op, v in steps))


def input_variants(degradations: Sequence[str] | None = None,
                      strengths: Mapping[str, Sequence[float]] | None = None,
                      mixed: Sequence[str] | None = None) -> list[tuple[str, Degradation, bool]]:
    """The variants every crop is degraded with, as (kind, degradation, mixed): clean; each degradation
    D of the set at its own strength and, if D is one operator, at each of ``strengths[operator]``
    (ascending); then the mixes — ``mixed`` (names of compositions of two or more operators of the set),
    None: every two degradations of the set with distinct operators, each at its own strength."""
    degs = degradation_set(degradations)
    strengths = dict(strengths or {})
    unknown = set(strengths) - set(OPERATORS)
    if unknown:
        raise ConfigError(f"strengths for unknown operators {sorted(unknown)}: expected keys of {list(OPERATORS)}")
    out: list[tuple[str, Degradation, bool]] = [("clean", CLEAN, False)]
    for name in degs:
        d = degradation(name)
        if len(d.steps) == 1:
            op, own = d.steps[0]
            levels = sorted({float(own), *(float(s) for s in strengths.get(op, []))})
            out += [(name, degradation(f"{op}{s:g}"), False) for s in levels]
        else:
            out.append((name, d, False))
    if mixed is None:
        parts = [degradation(n) for n in degs]
        mixes = [_mix((a, b)) for a, b in combinations(parts, 2)
                 if not {op for op, _ in a.steps} & {op for op, _ in b.steps}]
    else:
        mixes = [degradation(m) for m in mixed]
    ops_of_set = {op for n in degs for op, _ in degradation(n).steps}
    for m in mixes:
        if m.name in degs or len(m.steps) < 2 or not {op for op, _ in m.steps} <= ops_of_set:
            raise ConfigError(f"mixed input '{m.name}' must combine two or more operators of the set {degs} "
                              "and not be one of its degradations")
        if m.name not in [k for k, _, _ in out]:
            out.append((m.name, m, True))
    return out


def build_test_set(crops: Mapping[str, np.ndarray], scale: int, lr_size: int,
                   degradations: Sequence[str] | None = None, strengths: Mapping[str, Sequence[float]] | None = None,
                   mixed: Sequence[str] | None = None, seed: int = 0) -> InputSet:
    """Every HWC crop (at least :func:`hr_window` HR pixels) as LR inputs of lr_size pixels, one per
    variant of :func:`input_variants`: x = crop_m(D.apply(y, scale, g)) — the registry's pipeline
    (HR operators, ×s downsampling, LR operators, 8-bit quantisation, 8-bit operators) on the HR window,
    then the central lr_size pixels (so no blur padding reaches the input), with g =
    seeded_generator(seed, input name). Names: '{crop}_{variant}', e.g. 'chelsea_10_20_blur2_noise0.1'."""
    if scale < 1 or lr_size < 4:
        raise ConfigError(f"need scale ≥ 1 and lr_size ≥ 4, got {scale} and {lr_size}")
    variants = input_variants(degradations, strengths, mixed)
    hr_size = hr_window(scale, lr_size)
    m = (hr_size // scale - lr_size) // 2  # LR margin on each side
    out: list[DegradedInput] = []
    for cname, img in crops.items():
        if min(img.shape[:2]) < hr_size:
            raise ImageError(f"crop '{cname}' is {img.shape[:2]}: need {hr_size}×{hr_size} HR pixels "
                             f"({lr_size} LR + a blur margin of {m} on each side, ×{scale})")
        y = to_tensor(img[:hr_size, :hr_size])
        hr = quantize(y[..., m * scale:(m + lr_size) * scale, m * scale:(m + lr_size) * scale])
        for kind, d, is_mix in variants:
            name = f"{cname}_{d.full_name.replace('+', '_')}"
            x = d.apply(y, scale, seeded_generator(seed, name))
            out.append(DegradedInput(name, cname, d, kind, x[..., m:m + lr_size, m:m + lr_size], hr, is_mix))
    return InputSet(out, degradation_set(degradations), dict(scale=scale, lr_size=lr_size, seed=seed))


def calibration_inputs(data: DatasetRoot, lr_size: int) -> InputSet:
    """The clean and degraded LR images of a dataset root (the images F_D is found on), centre crops of
    at most ``lr_size`` pixels, labelled with the root's degradations: inputs to calibrate thresholds
    on, disjoint from the test set."""
    if not (data.clean and data.gt and len(data.degradations) >= 2):
        raise ConfigError("calibration needs the dataset root's GT, clean and degraded folders")
    size = min(lr_size, *(t.shape[-1] for t in data.clean), *(t.shape[-2] for t in data.clean))
    sub = data.subset(size=size)
    out = []
    for i, name in enumerate(sub.names):
        stem = Path(name).stem
        for kind in ("clean", *sub.degradations):
            d = CLEAN if kind == "clean" else degradation(kind)
            out.append(DegradedInput(f"{stem}_{kind}", stem, d, kind, sub[kind][i], sub.gt[i]))
    return InputSet(out, list(data.degradations), dict(scale=data.scale, lr_size=size))
