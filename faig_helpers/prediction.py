"""Degradation prediction from the discovered filters (the paper's last experiment; no original code).

For a degradation D let F_D be the dataset-level top-k set of D-filters (``FilterScores.top(D, p)``)
and F_x the top-k set of filters found for one input x alone. The **overlap score** and the rule are

    OS(x, D) = |F_D ∩ F_x| / |F_x|,        predict "x contains D"  ⇔  OS(x, D) > T_D

(one yes/no decision per degradation; paper: T_blur = 0.5 → 96 %, T_noise = 0.6 → 98 %), with
k = ⌊n·p/100⌋ (:func:`~faig_helpers.filters.top_count`) for both sets.

**F_x without ground truth.** F_x is the top-k of FAIG's per-input attribution
A_x = Σ_{3×3} |G_x ⊙ (θ̄ − θ)|, G_x = ∫₀¹ ∇_θ L(θ(α), x) dα, L(θ, x) = Σ (f_θ(x) − ŷ)². A real input
has no ground truth y, so ŷ is an output the models themselves provide (:func:`pseudo_target`):

* ``"target"`` (default): ŷ = f_θ(x), the target's own output. The target is the better restorer of
  degraded inputs, so it is the best available estimate of y (exactly y if the target were perfect),
  and the loss keeps the shape it has with y along the path: small at the target, large at the
  baseline. L(θ̄) − L(θ) = ‖f_θ̄(x) − f_θ(x)‖²: A_x splits the *change the fine-tune makes on this
  input* over the filters — an input with blur makes the target deblur, so deblur filters dominate.
* ``"baseline"``: ŷ = f_θ̄(x): the same endpoint difference, but the loss is zero at the baseline
  and largest at the target — the reverse of the ground-truth loss.
* ``"gt"``: the true HR image — the reference that shows what is lost without ground truth.

Notebook 05 measures all three.

Also here: the held-out test set (clean / blur / noise / blur+noise at several strengths, built with
:mod:`~faig_helpers.degradations`), two classical no-network estimators, and ROC / AUC / accuracy.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

from .archs import describe
from .engines import Engine, LocalEngine
from .methods import FAIG
from .degradations import DatasetRoot, add_noise, blur, downsample, quantize, seeded_generator
from .filters import top_count
from .images import rgb_to_luma, to_tensor

__all__ = ["PAPER", "PSEUDO_TARGETS", "DegradedInput", "top_sets", "overlap_score", "overlap_scores", "predict",
           "accuracy", "accuracy_curve", "auc", "roc_curve", "calibrate_threshold", "confusion", "decision_rows",
           "laplacian_variance", "noise_sigma_mad", "pick_crops", "heldout_photos", "load_photos", "calibration_inputs",
           "hr_window", "build_test_set", "inputs_table", "pseudo_target", "input_attributions"]

#: the paper's thresholds and reported accuracies, and the strengths F_D is found at
PAPER = {"blur": dict(threshold=0.5, accuracy=0.96, sigma=2.0), "noise": dict(threshold=0.6, accuracy=0.98, sigma=0.1)}
#: what the loss of a per-input attribution is measured against (see the module docstring)
PSEUDO_TARGETS = ("target", "baseline", "gt")
_BLUR_SIZE = 21  # the project's Gaussian kernel size


# ---------------------------------------------------------------- overlap score and the decision

def _k(n_filters: int, percent: float) -> int:
    k = top_count(n_filters, percent)
    if k < 1:
        raise ValueError(f"top {percent:g}% of {n_filters} filters is an empty set: raise the percentage")
    return k


def top_sets(attributions: np.ndarray, percent: float) -> np.ndarray:
    """Per-input top-k sets F_x: (n_inputs, k) filter indices, each row by descending A_x (stable:
    ties keep index order, as the rankings)."""
    a = np.atleast_2d(np.asarray(attributions, dtype=np.float64))
    return np.argsort(-a, axis=1, kind="stable")[:, :_k(a.shape[1], percent)]


def overlap_score(f_d: Sequence[int] | np.ndarray, f_x: Sequence[int] | np.ndarray) -> float:
    """OS = |F_D ∩ F_x| / |F_x| for two filter sets."""
    f_x = np.unique(np.asarray(f_x, dtype=np.int64))
    if not f_x.size:
        raise ValueError("F_x is empty: the overlap score is undefined")
    return float(np.isin(f_x, np.asarray(f_d, dtype=np.int64)).sum() / f_x.size)


def overlap_scores(f_d: np.ndarray, attributions: np.ndarray, percent: float) -> np.ndarray:
    """OS(x, D) for every input (rows of ``attributions``, (n_inputs, n_filters)) against one
    dataset-level set F_D; F_x = the top-``percent``% of each row."""
    a = np.atleast_2d(np.asarray(attributions))
    member = np.zeros(a.shape[1], dtype=bool)
    member[np.asarray(f_d, dtype=np.int64)] = True
    sets = top_sets(a, percent)
    return member[sets].sum(axis=1) / sets.shape[1]


def predict(scores: np.ndarray, threshold: float) -> np.ndarray:
    """The decision "x contains D": score > T."""
    return np.asarray(scores) > threshold


def _check_labels(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, y = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(labels, dtype=bool).ravel()
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores but {y.size} labels")
    if not s.size:
        raise ValueError("no inputs to evaluate")
    if not np.isfinite(s).all():
        raise ValueError(f"{int((~np.isfinite(s)).sum())} scores are NaN or infinite")
    return s, y


def accuracy(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    """Fraction of correct decisions: mean(1[score > T] = label)."""
    s, y = _check_labels(scores, labels)
    return float(np.mean(predict(s, threshold) == y))


def accuracy_curve(scores: np.ndarray, labels: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Accuracy at each threshold."""
    return np.array([accuracy(scores, labels, t) for t in thresholds])


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by the rank statistic (Mann–Whitney):
    AUC = (Σ rank(positives) − n₊(n₊+1)/2) / (n₊ n₋), average ranks for ties — the probability that a
    random positive scores above a random negative (ties count ½)."""
    s, y = _check_labels(scores, labels)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        raise ValueError(f"AUC needs positives and negatives, got {n_pos} and {n_neg}")
    r = rankdata(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) of the rule score ≥ t over every distinct score t,
    from (0, 0) to (1, 1); its trapezoid area is :func:`auc`."""
    s, y = _check_labels(scores, labels)
    if y.all() or not y.any():
        raise ValueError("a ROC curve needs positives and negatives")
    ts = np.unique(s)[::-1]
    tpr = np.array([0.0] + [np.mean(s[y] >= t) for t in ts])
    fpr = np.array([0.0] + [np.mean(s[~y] >= t) for t in ts])
    return fpr, tpr


def calibrate_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold T of the rule score > T with the highest accuracy on calibration inputs: among
    the midpoints between consecutive distinct scores (and below / above all of them), the middle
    one of those that reach the best accuracy."""
    s, y = _check_labels(scores, labels)
    u = np.unique(s)
    cand = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2, [u[-1] + 1.0]]) if u.size > 1 else \
        np.array([u[0] - 1.0, u[0]])
    acc = accuracy_curve(s, y, cand)
    best = cand[acc == acc.max()]
    return float(best[(len(best) - 1) // 2])


def confusion(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, int]:
    """Counts of true/false positives/negatives of the rule score > T."""
    s, y = _check_labels(scores, labels)
    p = predict(s, threshold)
    return dict(tp=int((p & y).sum()), fn=int((~p & y).sum()), fp=int((p & ~y).sum()), tn=int((~p & ~y).sum()))


# ---------------------------------------------------------------- classical, no-network estimators

def _luma(img: torch.Tensor | np.ndarray) -> np.ndarray:
    """(1, 3, H, W) / (3, H, W) tensor or HWC array → 2-D luma, float64."""
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu().double()
        t = t[0] if t.ndim == 4 else t
        return rgb_to_luma(t, channel_dim=0).numpy()
    a = np.asarray(img, dtype=np.float64)
    return a if a.ndim == 2 else rgb_to_luma(a, channel_dim=2)


def laplacian_variance(img: torch.Tensor | np.ndarray) -> float:
    """Variance of the Laplacian of the luma, var(∇²Y) with the 4-neighbour stencil on the interior
    (the classical focus measure: blur lowers it, noise raises it)."""
    y = _luma(img)
    if min(y.shape) < 3:
        raise ValueError(f"image of {y.shape} pixels is too small for a Laplacian")
    lap = y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4 * y[1:-1, 1:-1]
    return float(lap.var())


def noise_sigma_mad(img: torch.Tensor | np.ndarray) -> float:
    """Donoho's noise estimate σ̂ = median(|HH|) / 0.6745, HH = the finest diagonal subband of the
    orthonormal Haar wavelet, (a − b − c + d)/2 over 2×2 blocks (white noise of s.d. σ keeps s.d. σ
    there; image structure rarely reaches that band); per colour channel, averaged over channels."""
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu().double()
        chans = list((t[0] if t.ndim == 4 else t).numpy())
    else:
        a = np.asarray(img, dtype=np.float64)
        chans = [a] if a.ndim == 2 else list(np.moveaxis(a, 2, 0))
    h, w = (chans[0].shape[0] // 2) * 2, (chans[0].shape[1] // 2) * 2
    if not h or not w:
        raise ValueError(f"image of {chans[0].shape} pixels is too small for a 2×2 wavelet")
    sig = []
    for y in chans:
        y = y[:h, :w]
        hh = (y[0::2, 0::2] - y[0::2, 1::2] - y[1::2, 0::2] + y[1::2, 1::2]) / 2
        sig.append(np.median(np.abs(hh)) / 0.6745)
    return float(np.mean(sig))


# ---------------------------------------------------------------- the held-out test set

@dataclass
class DegradedInput:
    """One LR test input: its crop, the degradations it carries (σ = 0: absent) and the HR crop."""

    name: str
    crop: str
    blur_sigma: float
    noise_sigma: float
    lr: torch.Tensor  # (1, 3, h, w), 8-bit levels
    hr: torch.Tensor  # (1, 3, s·h, s·w), 8-bit levels

    @property
    def degradations(self) -> str:
        """'clean', 'blur', 'noise' or 'blur+noise'."""
        kinds = [d for d, s in (("blur", self.blur_sigma), ("noise", self.noise_sigma)) if s > 0]
        return "+".join(kinds) or "clean"

    def has(self, degradation: str) -> bool:
        if degradation not in ("blur", "noise"):
            raise ValueError(f"unknown degradation '{degradation}': expected 'blur' or 'noise'")
        return (self.blur_sigma if degradation == "blur" else self.noise_sigma) > 0


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes (top, left, height, width) share a pixel."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def pick_crops(photos: Mapping[str, np.ndarray], size: int, per_photo: int, seed: int = 0,
               avoid: Mapping[str, Sequence[tuple[int, int, int, int]]] | None = None, min_std: float = 0.04,
               tries: int = 2000) -> dict[str, np.ndarray]:
    """``per_photo`` seeded size×size crops of each HWC photo, overlapping neither each other nor the
    ``avoid`` boxes (top, left, h, w) of that photo, each with luma s.d. ≥ ``min_std`` (a flat crop
    carries no observable blur). Names: '{photo stem}_{top}_{left}'."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for name, img in photos.items():
        h, w = img.shape[:2]
        if h < size or w < size:
            raise ValueError(f"photo '{name}' ({h}×{w}) is smaller than a {size}-pixel crop")
        taken = list((avoid or {}).get(name, []))
        got = 0
        for _ in range(tries):
            if got == per_photo:
                break
            top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
            box = (top, left, size, size)
            crop = img[top:top + size, left:left + size]
            if any(_overlaps(box, b) for b in taken) or _luma(crop).std() < min_std:
                continue
            taken.append(box)
            out[f"{name.rsplit('.', 1)[0]}_{top}_{left}"] = crop
            got += 1
        if got < per_photo:
            raise ValueError(f"photo '{name}': found only {got} of {per_photo} non-overlapping textured "
                             f"{size}-pixel crops; ask for fewer or smaller crops")
    return out


def heldout_photos() -> tuple[dict[str, np.ndarray], dict[str, list[tuple[int, int, int, int]]]]:
    """The embedded default's held-out photographs (from installed packages; never the training
    images) and, per photo, the boxes of the evaluation crops F_D is computed on (to avoid)."""
    from .embedded import EVAL_SIZE, EVAL_SOURCES, _sources
    from .images import read_image

    try:
        sk, mpl = _sources()
    except ImportError as e:
        raise ImportError(f"the held-out photos ship with scikit-image and matplotlib ({e}); install "
                          "scikit-image or pass a folder of HR test images") from None
    src = {"scikit-image": sk, "matplotlib": mpl}
    photos: dict[str, np.ndarray] = {}
    avoid: dict[str, list[tuple[int, int, int, int]]] = {}
    for pkg, name, _, top, left in EVAL_SOURCES:
        if name not in photos:
            photos[name] = read_image(src[pkg] / name)
        avoid.setdefault(name, []).append((top, left, EVAL_SIZE, EVAL_SIZE))
    return photos, avoid


def load_photos(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every image of a folder of HR test photos, by file name (HWC RGB in [0, 1])."""
    from .images import ImageError, list_images, read_image

    photos = {p.name: read_image(p) for p in list_images(folder)}
    if not photos:
        raise ImageError(f"{folder}: no image files")
    return photos


def calibration_inputs(data: DatasetRoot, lr_size: int) -> list[DegradedInput]:
    """The clean, blurry and noisy LR images of a dataset root (the images F_D is found on), centre
    crops of ``lr_size`` pixels, labelled with the layout's strengths (σ_b = 2, σ_n = 0.1): inputs
    to calibrate a threshold on, disjoint from the test set."""
    if not (data.clean and data.gt and {'blur', 'noise'} <= set(data.degradations)):
        raise ValueError("calibration needs the dataset root's GT, clean, blurry and noisy folders")
    size = min(lr_size, *(t.shape[-1] for t in data.clean), *(t.shape[-2] for t in data.clean))
    sub = data.subset(size=size)
    out = []
    for i, name in enumerate(sub.names):
        for kind, b, n in (("clean", 0.0, 0.0), ("blur", PAPER["blur"]["sigma"], 0.0),
                           ("noise", 0.0, PAPER["noise"]["sigma"])):
            out.append(DegradedInput(f"{Path(name).stem}_{kind}", Path(name).stem, b, n, sub[kind][i], sub.gt[i]))
    return out


def hr_window(scale: int, lr_size: int) -> int:
    """HR side of the window one test input is cut from: lr_size LR pixels plus a blur margin of
    ⌈10 / scale⌉ LR pixels on each side (the radius of the 21-tap kernel), times the scale."""
    return (lr_size + 2 * math.ceil((_BLUR_SIZE // 2) / scale)) * scale


def build_test_set(crops: Mapping[str, np.ndarray], scale: int, lr_size: int,
                   blur_sigmas: Sequence[float] = (1.0, 2.0, 3.0), noise_sigmas: Sequence[float] = (0.05, 0.1, 0.15),
                   mixed: Sequence[tuple[float, float]] = ((2.0, 0.1),), seed: int = 0) -> list[DegradedInput]:
    """Every crop (HWC, at least (lr_size + 2m)·scale pixels, m the blur margin) as clean, blurry
    (each σ_b), noisy (each σ_n) and blur+noise ((σ_b, σ_n) pairs) LR inputs of lr_size pixels:
    x = Q(D_s(k_σb * y) + n), n ~ N(0, σ_n²) — the training order; Q = 8-bit quantisation. The HR
    window is blurred with a margin (then cropped), so no padding reaches the input; noise is seeded
    per input name, so the set is identical on every run and in any order."""
    if scale < 1 or lr_size < 4:
        raise ValueError(f"need scale ≥ 1 and lr_size ≥ 4, got {scale} and {lr_size}")
    hr_size = hr_window(scale, lr_size)
    m = (hr_size // scale - lr_size) // 2  # LR margin on each side
    variants = [(0.0, 0.0)] + [(b, 0.0) for b in blur_sigmas] + [(0.0, n) for n in noise_sigmas] + list(mixed)
    if any(b < 0 or n < 0 for b, n in variants):
        raise ValueError("strengths must be ≥ 0")
    out: list[DegradedInput] = []
    for cname, img in crops.items():
        if min(img.shape[:2]) < hr_size:
            raise ValueError(f"crop '{cname}' is {img.shape[:2]}: need {hr_size}×{hr_size} HR pixels "
                             f"({lr_size} LR + a blur margin of {m} on each side, ×{scale})")
        y = to_tensor(img[:hr_size, :hr_size])
        hr = quantize(y[..., m * scale:(m + lr_size) * scale, m * scale:(m + lr_size) * scale])
        for b, n in variants:
            tag = "clean" if not (b or n) else "_".join(p for p in (f"blur{b:g}" if b else "",
                                                                  f"noise{n:g}" if n else "") if p)
            name = f"{cname}_{tag}"
            x = downsample(blur(y, b, _BLUR_SIZE) if b else y, scale)
            if n:
                x = add_noise(x, n, seeded_generator(seed, name))
            out.append(DegradedInput(name, cname, float(b), float(n), quantize(x)[..., m:m + lr_size, m:m + lr_size], hr))
    return out


def inputs_table(inputs: Sequence[DegradedInput]) -> pd.DataFrame:
    """One row per input: name, crop, degradations, blur_sigma, noise_sigma."""
    return pd.DataFrame([dict(name=t.name, crop=t.crop, degradations=t.degradations, blur_sigma=t.blur_sigma,
                              noise_sigma=t.noise_sigma) for t in inputs])


def decision_rows(df: pd.DataFrame, degradation: str, strengths: Sequence[float] | None = None,
                  other_strengths: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of :func:`inputs_table` for one yes/no decision on single-degradation inputs, as (row
    mask, labels): positives carry only ``degradation`` (σ in ``strengths``; None: any), negatives
    are clean or carry only the other one (σ in ``other_strengths``; None: any). Mixed inputs are
    left out (they are judged on their own)."""
    if degradation not in ("blur", "noise"):
        raise ValueError(f"unknown degradation '{degradation}': expected 'blur' or 'noise'")
    own = df[f"{degradation}_sigma"].to_numpy(float)
    other = df[f"{'noise' if degradation == 'blur' else 'blur'}_sigma"].to_numpy(float)
    pos = (own > 0) & (other == 0) & (np.isin(own, strengths) if strengths is not None else True)
    neg = (own == 0) & ((other == 0) | (np.isin(other, other_strengths) if other_strengths is not None else True))
    mask = pos | neg
    return mask, pos[mask]


# ---------------------------------------------------------------- per-input attributions

def pseudo_target(faig: FAIG, x: DegradedInput, kind: str = "target", model: torch.nn.Module | None = None
                  ) -> torch.Tensor:
    """ŷ for one input: the target's output f_θ(x), the baseline's f_θ̄(x) (the two ends of FAIG's
    path, evaluated exactly as the path does) or the true HR crop ('gt')."""
    if kind not in PSEUDO_TARGETS:
        raise ValueError(f"unknown pseudo target '{kind}': expected one of {PSEUDO_TARGETS}")
    if kind == "gt":
        return x.hr
    with torch.no_grad():
        y = faig.path(x.lr, faig.path.params(0.0 if kind == "target" else 1.0), model)
    return y.detach().float().contiguous()


def input_attributions(faig: FAIG, inputs: Sequence[DegradedInput], kind: str = "target", n_steps: int | None = None,
                       quadrature: str | None = None, engine: Engine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A_x = Σ_{3×3}|G_x ⊙ (θ̄ − θ)| of every input against its ŷ (:func:`pseudo_target`), with
    :meth:`FAIG.attribute_inputs`: (n_inputs, n_filters) and the relative completeness deltas
    (n_inputs,), run by ``engine`` (default: a :class:`~faig_helpers.engines.LocalEngine`)."""
    from .methods import DEFAULT_QUADRATURE, DEFAULT_STEPS

    n_steps = DEFAULT_STEPS if n_steps is None else n_steps
    quadrature = DEFAULT_QUADRATURE if quadrature is None else quadrature
    if kind not in PSEUDO_TARGETS:
        raise ValueError(f"unknown pseudo target '{kind}': expected one of {PSEUDO_TARGETS}")
    scale = describe(faig.path.theta)["upscale"]
    for t in inputs:
        if t.hr.shape[-1] != scale * t.lr.shape[-1] or t.hr.shape[-2] != scale * t.lr.shape[-2]:
            raise ValueError(f"input '{t.name}' is ×{t.hr.shape[-1] / t.lr.shape[-1]:g} but the network is ×{scale}: "
                             "build the test set at the network's scale")
    def run(i: int, model: torch.nn.Module | None) -> dict[str, np.ndarray]:
        x = inputs[i]  # ŷ too runs in the worker: the same numerics for any threads
        return faig.attribute_inputs([x.lr], pseudo_target(faig, x, kind, model), n_steps, quadrature, model,
                                     where=f"input '{x.name}'")

    rows = dict((engine or LocalEngine()).map(run, list(range(len(inputs))), faig.path.model, faig.device))
    a = np.stack([rows[i]["A"][0] for i in range(len(inputs))]) if inputs else np.zeros((0, len(faig)))
    d = np.array([rows[i]["delta"][0] for i in range(len(inputs))])
    return a, d
