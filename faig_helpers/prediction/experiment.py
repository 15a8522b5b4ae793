"""One pair's prediction experiment: the per-input attributions of the test and calibration inputs, and
the overlap scores, calibrated thresholds and classical statistics every table of notebook 05 is built
from (:mod:`.tables`); in notebook 05 (minutes: per-input attributions)::

    p = prediction_experiment(pair, lab.rankings[pair.name], tests, calibration_inputs(pair.data, 24))
    p.overlaps("faig")["blur"]            # OS(x, blur) of every test input, F_x from f_θ(x)
    p.calibrated_threshold("blur")        # T_blur calibrated on the dataset root's images
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from ..engines import Engine
from ..errors import ConfigError
from ..filters import top_count
from ..io_utils import atomic_write_text
from ..layout import Layout
from ..methods import FAIG, FilterScores
from .attributions import PSEUDO_TARGETS, input_attributions
from .classical import Statistic, classical_scores, classical_statistic
from .overlap import overlap_scores
from .roc import calibrate_threshold
from .testset import InputSet

if TYPE_CHECKING:
    from ..lab import Pair

__all__ = ["Prediction", "prediction_experiment", "save_prediction"]


@dataclass
class Prediction:
    """Everything one pair's prediction tables need.

    ``attributions``: F_x kind ('target', and the references 'gt', 'baseline') → A_x of the test inputs,
    (len(tests), n_filters), NaN rows where not computed (references: clean and single-degradation inputs
    at the set's strength only); ``calibration_attributions``: A_x of the calibration inputs (ŷ = f_θ(x));
    ``thresholds`` / ``paper_accuracy``: the paper's T_D and accuracy, for the degradations that have one.
    """

    net: str
    dataset: str
    tests: InputSet
    calibration: InputSet
    rankings: dict[str, FilterScores]
    attributions: dict[str, np.ndarray]
    calibration_attributions: np.ndarray
    percent: float = 1.0
    thresholds: dict[str, float] = field(default_factory=dict)
    paper_accuracy: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def degradations(self) -> list[str]:
        return list(self.tests.degradations)

    @property
    def methods(self) -> list[str]:
        """The rankings whose F_D are compared ('faig' first)."""
        return ["faig", *(m for m in self.rankings if m != "faig")]

    @property
    def references(self) -> list[str]:
        """The other ŷ F_x was computed with ('gt', 'baseline')."""
        return [fx for fx in self.attributions if fx != "target"]

    @property
    def n_filters(self) -> int:
        return int(self.calibration_attributions.shape[1])

    def k(self, percent: float | None = None) -> int:
        """|F_D| = |F_x| = ⌊n·p/100⌋ (at least 1)."""
        return top_count(self.n_filters, self.percent if percent is None else percent)

    def _order(self, key: str, a: np.ndarray) -> np.ndarray:
        """Every row's filters by descending A_x (stable), computed once per array (NaN rows: zeros)."""
        if ("order", key) not in self._cache:
            a = np.where(np.isnan(a), 0.0, a)
            self._cache["order", key] = np.argsort(-a, axis=1, kind="stable")
        return self._cache["order", key]

    def _overlaps(self, key: str, a: np.ndarray, method: str, percent: float | None) -> dict[str, np.ndarray]:
        p = self.percent if percent is None else percent
        if method not in self.rankings:
            raise ConfigError(f"no '{method}' ranking: this experiment has {list(self.rankings)}")
        if ("os", key, method, p) not in self._cache:
            order = self._order(key, a)
            self._cache["os", key, method, p] = {d: overlap_scores(self.rankings[method].top(d, p), a, p, order)
                                                 for d in self.degradations}
        return self._cache["os", key, method, p]

    def overlaps(self, method: str = "faig", fx: str = "target", percent: float | None = None
                 ) -> dict[str, np.ndarray]:
        """OS(x, D) = |F_D ∩ F_x| / |F_x| of every test input for each D of the set, F_D from ``method``'s
        ranking, F_x from the attribution against ŷ = ``fx`` (NaN where it was not computed)."""
        if fx not in self.attributions:
            raise ConfigError(f"no F_x from '{fx}': this experiment has {list(self.attributions)}")
        return self._overlaps(fx, self.attributions[fx], method, percent)

    def calibration_overlaps(self, method: str = "faig", percent: float | None = None) -> dict[str, np.ndarray]:
        """OS(x, D) of the calibration inputs (F_x from f_θ(x))."""
        return self._overlaps("calibration", self.calibration_attributions, method, percent)

    def calibrated_threshold(self, name: str, method: str = "faig", percent: float | None = None) -> float:
        """T_D of "OS(x, D) > T_D" with the best accuracy on the calibration inputs
        (:func:`~faig_helpers.prediction.roc.calibrate_threshold`), at most 1 (OS ≤ 1: T = 1 already says
        "no" to every input)."""
        t = calibrate_threshold(self.calibration_overlaps(method, percent)[name], self.calibration.contains(name))
        return min(t, 1.0)

    def statistic(self, name: str) -> Statistic | None:
        """The classical estimator of degradation ``name`` (None: it has none)."""
        return classical_statistic(name)

    def statistics(self, name: str, calibration: bool = False) -> np.ndarray | None:
        """The classical statistic of every test (or calibration) input; None: no estimator."""
        key = ("stat", name, calibration)
        if key not in self._cache:
            inputs = self.calibration if calibration else self.tests
            self._cache[key] = classical_scores([x.lr for x in inputs], name)
        return self._cache[key]

    def statistic_threshold(self, name: str) -> float | None:
        """The classical statistic's threshold, calibrated on the calibration inputs (None: no estimator)."""
        s = self.statistics(name, calibration=True)
        return None if s is None else calibrate_threshold(s, self.calibration.contains(name))


def prediction_experiment(pair: Pair, rankings: Mapping[str, FilterScores], tests: InputSet, calibration: InputSet, *,
                          references: Sequence[str] = ("gt", "baseline"), n_steps: int = 8,
                          quadrature: str = "riemann_middle", percent: float = 1.0,
                          thresholds: Mapping[str, float] | None = None,
                          paper_accuracy: Mapping[str, float] | None = None,
                          device: str | torch.device | None = None, engine: Engine | None = None) -> Prediction:
    """Run FAIG per input on ``pair`` (a :class:`~faig_helpers.lab.Pair`): A_x of every test input with
    ŷ = f_θ(x), of the clean and single-degradation test inputs at the set's strength with each of
    ``references`` ('gt', 'baseline'), and of the calibration inputs with ŷ = f_θ(x); ``n_steps`` nodes
    of ``quadrature`` per input. ``thresholds`` / ``paper_accuracy``: the paper's T_D and accuracy
    (entries for degradations outside the set are ignored; the others get a calibrated T only)."""
    if "faig" not in rankings:
        raise ConfigError(f"the rankings must include 'faig' (the predictor under test), got {list(rankings)}")
    for m, s in rankings.items():
        missing = set(tests.degradations) - set(s.degradations)
        if missing:
            raise ConfigError(f"the '{m}' ranking has no {sorted(missing)} scores: rank the pair on the test set's "
                              f"degradations {tests.degradations}")
    if set(calibration.degradations) != set(tests.degradations):
        raise ConfigError(f"calibration inputs are for {calibration.degradations}, the test set for "
                          f"{tests.degradations}")
    for ref in references:
        if ref not in PSEUDO_TARGETS or ref == "target":
            raise ConfigError(f"unknown reference '{ref}': expected some of "
                              f"{[k for k in PSEUDO_TARGETS if k != 'target']}")
    t = {d: float(v) for d, v in (thresholds or {}).items() if d in tests.degradations}
    if any(not 0 <= v <= 1 for v in t.values()):
        raise ConfigError(f"thresholds on an overlap score lie in [0, 1], got {t}")
    acc = {d: float(v) for d, v in (paper_accuracy or {}).items() if d in t}
    faig = FAIG(pair.baseline, pair.target, device=device)
    t0 = time.perf_counter()
    run = dict(n_steps=n_steps, quadrature=quadrature, engine=engine)
    a = {"target": input_attributions(faig, tests.inputs, "target", **run)[0]}
    rows = (tests.table.set_strength & ~tests.table.mixed).to_numpy(bool)
    for ref in references:
        full = np.full_like(a["target"], np.nan)
        full[rows] = input_attributions(faig, [x for x, r in zip(tests, rows) if r], ref, **run)[0]
        a[ref] = full
    cal = input_attributions(faig, calibration.inputs, "target", **run)[0]
    info = dict(seconds=time.perf_counter() - t0, n_steps=n_steps, quadrature=quadrature,
                inputs=len(tests) + int(rows.sum()) * len(references) + len(calibration))
    return Prediction(pair.name, pair.dataset_name, tests, calibration, dict(rankings), a, cal, float(percent), t, acc,
                      info)


def save_prediction(p: Prediction, layout: Layout, scores: pd.DataFrame, accuracy: pd.DataFrame | None = None
                    ) -> list[Path]:
    """Write ``scores.csv`` (one row per test input) and ``accuracy.csv`` (accuracy against the threshold)
    under ``layout.prediction(net, dataset)``, atomically; a 'net' column is dropped."""
    folder = layout.prediction(p.net, p.dataset)
    out = []
    for name, df in (("scores.csv", scores), ("accuracy.csv", accuracy)):
        if df is not None:
            df = df[df.net == p.net].drop(columns="net") if "net" in df else df
            out.append(atomic_write_text(folder / name, df.to_csv(index=False)))
    return out
