"""Named degradations: operators of the registry with strengths, joined by '+' in pipeline order, and the
folder and table words of each name.

A strength other than the default is written after the operator: ``blur1``, ``noise0.05``, ``jpeg30``,
``blur3+noise0.2``; ``clean`` is no operator.

**Folders.** GT ``GTmod12``, clean ``Linear_LRbicx2``, default blur ``Blur2_LRbicx2`` and default noise
``LRbicx2_noise0.1`` (the original's names, at every scale); every other degradation
``LRbicx2_{name with every strength written out}``, e.g. ``LRbicx2_jpeg50``, ``LRbicx2_blur1+noise0.1``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from ..errors import DegradationError
from .operators import OPERATORS, pipeline

__all__ = ["GT_FOLDER", "CLEAN_FOLDER", "Degradation", "CLEAN", "degradation", "PAPER_SET", "degradation_set"]

GT_FOLDER, CLEAN_FOLDER = "GTmod12", "Linear_LRbicx2"
#: the original layout's folder names of the default blur and noise
_ORIGINAL_FOLDERS = {(("blur", 2.0),): "Blur2_LRbicx2", (("noise", 0.1),): "LRbicx2_noise0.1"}
#: the original's results folders of a model with the blur or noise filters substituted
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
        operators, Q, then operators on the 8-bit image (:func:`~faig_helpers.degradations.operators.pipeline`)."""
        return pipeline(hr, [(op, s, None) for op, s in self.steps], scale, generator)

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
