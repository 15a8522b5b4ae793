"""Quadrature rules on [0, 1] for path integrals ∫₀¹ g(α) dα ≈ Σ_k w_k g(α_k).

Names follow captum's ``approximation_methods``:

* ``riemann_left``      α_k = k/N,          w_k = 1/N   (the original FAIG code, N = 100)
* ``riemann_right``     α_k = (k+1)/N,      w_k = 1/N
* ``riemann_middle``    α_k = (k+½)/N,      w_k = 1/N
* ``riemann_trapezoid`` α_k = k/(N−1),      w_k = 1/(N−1), halved at both ends
* ``gausslegendre``     Gauss–Legendre nodes and weights mapped from [−1, 1] to [0, 1]
* ``adaptive``          the composite trapezoid rule on 2^j + 1 nested nodes, j = 2, 3, … (5, 9, 17, 33, …
                        nodes), refined until the caller's result is stable, at most ``n_steps`` nodes
                        (:func:`refinements`)
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["RULES", "ADAPTIVE", "ADAPTIVE_MAX", "check", "nodes_and_weights", "refinements"]

ADAPTIVE = "adaptive"
RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre", ADAPTIVE)
_FIRST_LEVEL = 5  # nodes of the adaptive rule's first level
ADAPTIVE_MAX = 129  # nodes of its sixth level (5, 9, 17, 33, 65, 129): its usual cap


def refinements(rule: str, n_steps: int) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """The steps of an integral estimate I ≈ Σ_k w_k g(α_k): yields (α, w, keep), after which
    I ← keep·I + Σ_k w_k g(α_k). A fixed rule is one step (keep = 0). ``adaptive`` first yields the
    5-node trapezoid rule, then each further level adds the midpoints of the previous intervals with
    keep = ½ (T_{2m} = T_m / 2 + h_{2m} Σ g(new nodes), the recursion behind Romberg's method), as long
    as the total stays within ``n_steps`` nodes; the caller stops when its result no longer changes."""
    if rule != ADAPTIVE:
        yield (*nodes_and_weights(rule, n_steps), 0.0)
        return
    if n_steps < _FIRST_LEVEL:
        raise ValueError(f"n_steps={n_steps} is too small for '{ADAPTIVE}' (at least {_FIRST_LEVEL} nodes)")
    a, w = nodes_and_weights("riemann_trapezoid", _FIRST_LEVEL)
    yield a, w, 0.0
    intervals, total = _FIRST_LEVEL - 1, _FIRST_LEVEL
    while total + intervals <= n_steps:
        new = (2 * np.arange(intervals, dtype=np.float64) + 1) / (2 * intervals)
        yield new, np.full(intervals, 1.0 / (2 * intervals)), 0.5
        total += intervals
        intervals *= 2


def check(rule: str, n_steps: int) -> None:
    """Raise ValueError, before any work, if ``rule`` with ``n_steps`` nodes cannot be computed."""
    next(iter(refinements(rule, n_steps)))


def nodes_and_weights(rule: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (α_k, w_k), float64 arrays of length ``n_steps``, with Σ w_k = 1 (fixed rules only)."""
    method = rule
    if rule == ADAPTIVE:
        raise ValueError(f"'{ADAPTIVE}' has no fixed nodes: use refinements()")
    if n_steps < 1 or (method == "riemann_trapezoid" and n_steps < 2):
        raise ValueError(f"n_steps={n_steps} is too small for '{method}'")
    k = np.arange(n_steps, dtype=np.float64)
    if method == "riemann_left":
        return k / n_steps, np.full(n_steps, 1.0 / n_steps)
    if method == "riemann_right":
        return (k + 1) / n_steps, np.full(n_steps, 1.0 / n_steps)
    if method == "riemann_middle":
        return (k + 0.5) / n_steps, np.full(n_steps, 1.0 / n_steps)
    if method == "riemann_trapezoid":
        w = np.full(n_steps, 1.0 / (n_steps - 1))
        w[[0, -1]] /= 2
        return k / (n_steps - 1), w
    if method == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n_steps)
        return (x + 1) / 2, w / 2
    raise ValueError(f"unknown quadrature '{method}': expected one of {RULES}")
