"""Is the FAIG integral converged? Quadrature rules against a reference.

Two measures per rule and node count N (see ``benchmarks/bench_faig.py`` for the full-size study):

* the **completeness delta** |Σ G⊙Δθ − (L(θ̄) − L(θ))| / |L(θ̄) − L(θ)| per image and input — the signed
  attributions of a path integral of the gradient sum to the loss difference, so this is the
  quadrature error of the integral itself;
* the top-p% **Jaccard** of the blur and noise rankings with a reference computed with many nodes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .attribution import FAIG, FilterScores, top_jaccard
from .degradations import DatasetRoot
from .quadrature import ADAPTIVE, ADAPTIVE_MAX

__all__ = ["REFERENCE", "convergence_table"]

#: a fine composite rule: the reference the others are measured against
REFERENCE = ("riemann_middle", 256)


def convergence_table(faig: FAIG, data: DatasetRoot, rules: Sequence[str], node_counts: Sequence[int],
                      reference: tuple[str, int] | FilterScores = REFERENCE, percent: float = 1.0,
                      progress: bool = True) -> pd.DataFrame:
    """One row per rule × N: abs_delta (mean |relative completeness delta|), jaccard_blur, jaccard_noise
    (top-``percent``% sets against ``reference``: a (rule, N) pair or scores already computed)."""
    ref = reference if isinstance(reference, FilterScores) else \
        faig.attribute(data, n_steps=reference[1], quadrature=reference[0], progress=False)
    rows = []
    for rule in tqdm(rules, desc="quadrature rules", disable=not progress, leave=False):
        # the adaptive rule chooses its nodes per image (at most ADAPTIVE_MAX): one row, at their mean
        for n in ([ADAPTIVE_MAX] if rule == ADAPTIVE else node_counts):
            s = faig.attribute(data, n_steps=n, quadrature=rule, progress=False)
            n = float(np.mean(s.info["nodes"])) if rule == ADAPTIVE else n
            rows.append(dict(rule=rule, nodes=n, abs_delta=float(np.abs(s.delta).mean()),
                             jaccard_blur=top_jaccard(s.blur, ref.blur, percent),
                             jaccard_noise=top_jaccard(s.noise, ref.noise, percent)))
    return pd.DataFrame(rows)
