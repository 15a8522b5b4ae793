"""Per-input FAIG attributions, for inputs without ground truth.

F_x is the top-k of FAIG's per-input attribution A_x = Σ_kernel |G_x ⊙ (θ̄ − θ)|,
G_x = ∫₀¹ ∇_θ L(θ(α), x) dα, L(θ, x) = Σ (f_θ(x) − ŷ)². A real input has no ground truth y, so ŷ is an
output the models themselves provide (:func:`pseudo_target`):

* ``"target"`` (default): ŷ = f_θ(x), the target's own output. The target is the better restorer of
  degraded inputs, so it is the best available estimate of y (exactly y if the target were perfect),
  and the loss keeps the shape it has with y along the path: small at the target, large at the
  baseline. L(θ̄) − L(θ) = ‖f_θ̄(x) − f_θ(x)‖²: A_x splits the *change the fine-tune makes on this
  input* over the filters — an input with blur makes the target deblur, so deblur filters dominate.
* ``"baseline"``: ŷ = f_θ̄(x): the same endpoint difference, but the loss is zero at the baseline and
  largest at the target — the reverse of the ground-truth loss.
* ``"gt"``: the true HR image — the reference that shows what is lost without ground truth.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..engines import Engine, LocalEngine
from ..errors import ConfigError
from ..methods import DEFAULT_QUADRATURE, DEFAULT_STEPS, FAIG
from .testset import DegradedInput

__all__ = ["PSEUDO_TARGETS", "pseudo_target", "input_attributions"]

#: what the loss of a per-input attribution is measured against (see the module docstring)
PSEUDO_TARGETS = ("target", "baseline", "gt")


def _check_kind(kind: str) -> None:
    if kind not in PSEUDO_TARGETS:
        raise ConfigError(f"unknown pseudo target '{kind}': expected one of {PSEUDO_TARGETS}")


def pseudo_target(faig: FAIG, x: DegradedInput, kind: str = "target", model: torch.nn.Module | None = None
                  ) -> torch.Tensor:
    """ŷ for one input: the target's output f_θ(x) (α = 0), the baseline's f_θ̄(x) (α = 1) — the two ends
    of FAIG's path, evaluated exactly as the path does — or the true HR crop ('gt')."""
    _check_kind(kind)
    if kind == "gt":
        return x.hr
    with torch.no_grad():
        y = faig.path(x.lr, faig.path.params(0.0 if kind == "target" else 1.0), model)
    return y.detach().float().contiguous()


def input_attributions(faig: FAIG, inputs: Sequence[DegradedInput], kind: str = "target", n_steps: int | None = None,
                       quadrature: str | None = None, engine: Engine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A_x = Σ_kernel |G_x ⊙ (θ̄ − θ)| of every input against its ŷ (:func:`pseudo_target`), by
    :meth:`FAIG.attribute_inputs`: (n_inputs, n_filters) and the relative completeness deltas
    (n_inputs,), run by ``engine`` (default: a :class:`~faig_helpers.engines.LocalEngine`; any engine
    gives the same numbers)."""
    _check_kind(kind)
    n_steps = DEFAULT_STEPS if n_steps is None else n_steps
    quadrature = DEFAULT_QUADRATURE if quadrature is None else quadrature
    if not inputs:
        return np.zeros((0, len(faig))), np.zeros(0)
    with torch.no_grad():  # the network's scale, from one output
        x0 = inputs[0].lr
        scale = faig.path(x0, faig.path.params(0.0)).shape[-1] // x0.shape[-1]
    for t in inputs:
        if t.hr.shape[-1] != scale * t.lr.shape[-1] or t.hr.shape[-2] != scale * t.lr.shape[-2]:
            raise ConfigError(f"input '{t.name}' is ×{t.hr.shape[-1] / t.lr.shape[-1]:g} but the network is "
                              f"×{scale}: build the test set at the network's scale")

    def run(i: int, model: torch.nn.Module | None) -> dict[str, np.ndarray]:
        x = inputs[i]  # ŷ too runs in the worker: the same numerics for any threads
        return faig.attribute_inputs([x.lr], pseudo_target(faig, x, kind, model), n_steps, quadrature, model,
                                     where=f"input '{x.name}'")

    rows = dict((engine or LocalEngine()).map(run, list(range(len(inputs))), faig.path.model, faig.device))
    a = np.stack([rows[i]["A"][0] for i in range(len(inputs))])
    d = np.array([rows[i]["delta"][0] for i in range(len(inputs))])
    return a, d
