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

:data:`QUADRATURES` is the registry: a new fixed rule is one function ``n → (α, w)`` under
``@QUADRATURES.register(name=...)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .errors import ConfigError
from .registry import Registry

__all__ = ["QUADRATURES", "ADAPTIVE", "ADAPTIVE_MAX", "check", "nodes_and_weights", "refinements"]

Rule = Callable[[int], tuple[np.ndarray, np.ndarray]]
#: the quadrature rules by name: ``n → (α_k, w_k)`` on [0, 1] (the adaptive rule has none: see :func:`refinements`)
QUADRATURES: Registry[Rule] = Registry("quadrature", ConfigError)
ADAPTIVE = "adaptive"
_FIRST_LEVEL = 5  # nodes of the adaptive rule's first level
ADAPTIVE_MAX = 129  # nodes of its sixth level (5, 9, 17, 33, 65, 129): its usual cap


@QUADRATURES.register(name="riemann_left", order=10)
def _left(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(n, dtype=np.float64) / n, np.full(n, 1.0 / n)


@QUADRATURES.register(name="riemann_right", order=20)
def _right(n: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(n, dtype=np.float64) + 1) / n, np.full(n, 1.0 / n)


@QUADRATURES.register(name="riemann_middle", order=30)
def _middle(n: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(n, dtype=np.float64) + 0.5) / n, np.full(n, 1.0 / n)


@QUADRATURES.register(name="riemann_trapezoid", order=40)
def _trapezoid(n: int) -> tuple[np.ndarray, np.ndarray]:
    if n < 2:
        raise ConfigError(f"n_steps={n} is too small for 'riemann_trapezoid' (at least 2 nodes)")
    w = np.full(n, 1.0 / (n - 1))
    w[[0, -1]] /= 2
    return np.arange(n, dtype=np.float64) / (n - 1), w


@QUADRATURES.register(name="gausslegendre", order=50)
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


@QUADRATURES.register(name=ADAPTIVE, order=60)
def _adaptive(n: int) -> tuple[np.ndarray, np.ndarray]:
    raise ConfigError(f"'{ADAPTIVE}' has no fixed nodes: use refinements()")


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
        raise ConfigError(f"n_steps={n_steps} is too small for '{ADAPTIVE}' (at least {_FIRST_LEVEL} nodes)")
    a, w = nodes_and_weights("riemann_trapezoid", _FIRST_LEVEL)
    yield a, w, 0.0
    intervals, total = _FIRST_LEVEL - 1, _FIRST_LEVEL
    while total + intervals <= n_steps:
        new = (2 * np.arange(intervals, dtype=np.float64) + 1) / (2 * intervals)
        yield new, np.full(intervals, 1.0 / (2 * intervals)), 0.5
        total += intervals
        intervals *= 2


def check(rule: str, n_steps: int) -> None:
    """Raise :class:`~faig_helpers.errors.ConfigError`, before any work, if ``rule`` with ``n_steps`` nodes
    cannot be computed."""
    next(iter(refinements(rule, n_steps)))


def nodes_and_weights(rule: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (α_k, w_k), float64 arrays of length ``n_steps``, with Σ w_k = 1 (fixed rules only).

    >>> nodes_and_weights("riemann_middle", 4)[0].tolist()
    [0.125, 0.375, 0.625, 0.875]
    """
    make = QUADRATURES[rule]
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ConfigError(f"n_steps={n_steps} is too small for '{rule}' (at least 1 node)")
    return make(int(n_steps))
