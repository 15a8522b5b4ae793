"""Quadrature rules on [0, 1] for path integrals ∫₀¹ g(α) dα ≈ Σ_k w_k g(α_k).

Names follow captum's ``approximation_methods``:

* ``riemann_left``      α_k = k/N,          w_k = 1/N   (the original FAIG code, N = 100)
* ``riemann_right``     α_k = (k+1)/N,      w_k = 1/N
* ``riemann_middle``    α_k = (k+½)/N,      w_k = 1/N
* ``riemann_trapezoid`` α_k = k/(N−1),      w_k = 1/(N−1), halved at both ends
* ``gausslegendre``     Gauss–Legendre nodes and weights mapped from [−1, 1] to [0, 1]
"""
from __future__ import annotations

import numpy as np

__all__ = ["RULES", "nodes_and_weights"]

RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")


def nodes_and_weights(rule: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (α_k, w_k), float64 arrays of length ``n_steps``, with Σ w_k = 1."""
    method = rule
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
