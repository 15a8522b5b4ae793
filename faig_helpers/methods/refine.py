"""The adaptive rule's refinement loop, shared by the methods that integrate along a path (FAIG, IG): the
defaults, the tolerances and the per-level error estimate.

The adaptive rule refines an image (5, 9, 17, … nested trapezoid nodes) until what is ranked is stable:
‖s⁽ʲ⁾ − s⁽ʲ⁻¹⁾‖₁ / ‖s⁽ʲ⁾‖₁ ≤ ADAPTIVE_CHANGE for every score vector and, for FAIG,
|Σ G⊙(θ̄ − θ) − ΔL| / Σ|G⊙(θ̄ − θ)| ≤ ADAPTIVE_DELTA for every input, judged from ADAPTIVE_MIN_NODES on.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from ..quadrature import ADAPTIVE, ADAPTIVE_MAX, refinements

__all__ = ["DEFAULT_QUADRATURE", "DEFAULT_STEPS", "ADAPTIVE_DELTA", "ADAPTIVE_CHANGE", "ADAPTIVE_MIN_NODES", "Refiner",
           "Change", "stopping_rule"]

#: default quadrature (see ``benchmarks/bench_faig.py`` and the README's speed table)
DEFAULT_QUADRATURE, DEFAULT_STEPS = ADAPTIVE, ADAPTIVE_MAX
#: the adaptive rule refines an image until what is ranked — the per-filter score — changes by at most
#: ADAPTIVE_CHANGE (relative L1) between two levels and, for FAIG, the completeness error of every input is at
#: most ADAPTIVE_DELTA of its attribution mass Σ|G ⊙ (θ̄ − θ)| (a scale that does not vanish where a pair barely
#: differs, unlike |ΔL|); scripts/explore_stopping.py and benchmarks/bench_faig.py measure the choice
ADAPTIVE_DELTA, ADAPTIVE_CHANGE = 0.005, 0.02
#: the earliest stop: 17 nodes, the first judgement comparing 9 with 17 — a change between 5 and 9 nodes is too
#: coarse to trust (on the full-size SRCNN-style pair the rule stopped there and its top-1% set fell 0.006 below
#: left-100's against the converged reference)
ADAPTIVE_MIN_NODES = 17




def stopping_rule() -> str:
    """The adaptive rule's tolerances in words (part of a ranking's settings, so a change re-keys saved results)."""
    return f"score change {ADAPTIVE_CHANGE}, mass delta {ADAPTIVE_DELTA}, from {ADAPTIVE_MIN_NODES} nodes"


class Refiner:
    """Iterate over the steps of ``quadrature`` (:func:`~faig_helpers.quadrature.refinements`). For the
    adaptive rule, ``error()`` is called after every level (it may compare levels) and refinement stops
    at the first level of at least :data:`ADAPTIVE_MIN_NODES` nodes where it is ≤ ``tolerance``. ``nodes``: the
    nodes used."""

    def __init__(self, quadrature: str, n_steps: int, error: Callable[[], float], tolerance: float) -> None:
        self.steps, self.error, self.tolerance = refinements(quadrature, n_steps), error, tolerance
        self.adaptive, self.nodes = quadrature == ADAPTIVE, 0

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
        for alphas, weights, keep in self.steps:
            yield alphas, weights, keep
            self.nodes += len(alphas)
            if self.adaptive and self.error() <= self.tolerance and self.nodes >= ADAPTIVE_MIN_NODES:
                return  # (error() is called at every level: it compares each with the one before)


class Change:
    """Relative L1 change ‖a_now − a_before‖₁ / ‖a_now‖₁ of per-filter results between two levels
    (∞ at the first level): the trapezoid rule's own error estimate, filter by filter."""

    def __init__(self) -> None:
        self.before: list[np.ndarray] | None = None

    def __call__(self, now: list[np.ndarray]) -> float:
        before, self.before = self.before, now
        if before is None:
            return math.inf
        return max(float(np.abs(a - b).sum() / max(np.abs(a).sum(), 1e-300)) for a, b in zip(now, before))
