"""Every table of notebook 05, its claims and its figure captions, built from :class:`Prediction` s.

Each function takes one :class:`Prediction` (a table without a 'net' column) or a mapping of them
(one table, 'net' first). Each decision "does x contain D?" is judged on the clean and single-
degradation test inputs (mixed inputs on their own, :func:`mixed_table`):

* **set strengths**: clean inputs and each degradation of the set at the strength F_D is found at;
* **all strengths**: every strength; per strength s (ROC): positives D at s, negatives every input
  without D.

"paper T" is the paper's T_D (where the set's D has one), "calibrated T" the threshold with the best
accuracy on the dataset root's own images (:meth:`Prediction.calibrated_threshold`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..claims import Claims
from ..degradations import OPERATORS, degradation
from .experiment import Prediction
from .roc import accuracy, accuracy_curve, auc, confusion, roc_curve

__all__ = ["THRESHOLD_GRID", "prediction_scores", "accuracy_table", "roc_table", "auc_table", "confusion_table",
           "predictor_table", "mixed_table", "k_table", "prediction_claims", "describe_accuracy", "describe_auc",
           "describe_mixed"]

Predictions = Prediction | Mapping[str, Prediction]
#: thresholds of the accuracy curves: 0, 0.01, …, 1
THRESHOLD_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)


def _list(preds: Predictions) -> list[Prediction]:
    return [preds] if isinstance(preds, Prediction) else list(preds.values())


def _each(preds: Predictions, fn: Callable[[Prediction], pd.DataFrame]) -> pd.DataFrame:
    """``fn`` of one prediction, or of each with a 'net' column first."""
    if isinstance(preds, Prediction):
        return fn(preds)
    frames = [fn(p) for p in preds.values()]
    return pd.concat([f.assign(net=p.net)[["net", *f.columns]] for p, f in zip(preds.values(), frames)],
                     ignore_index=True)


def _symbol(name: str) -> str:
    steps = degradation(name).steps
    return OPERATORS[steps[0][0]].symbol if len(steps) == 1 else "strength"


def _levels(p: Prediction, name: str) -> list:
    """The strengths D is tested at (['set'] for a composition, which has one)."""
    return p.tests.strengths(name) or ["set"]


def prediction_scores(preds: Predictions) -> pd.DataFrame:
    """One row per test input (its table of :class:`~faig_helpers.prediction.testset.InputSet`): OS(x, D)
    for each D (``os_{D}``, F_x from f_θ(x); ``os_{D}_{reference}``, F_x from each reference) and each
    classical statistic (named by its ``column``)."""
    def one(p: Prediction) -> pd.DataFrame:
        t = p.tests.table.copy()
        for d, o in p.overlaps().items():
            t[f"os_{d}"] = o
        for ref in p.references:
            for d, o in p.overlaps("faig", ref).items():
                t[f"os_{d}_{ref}"] = o
        for d in p.degradations:
            if p.statistic(d) is not None:
                t[p.statistic(d).column] = p.statistics(d)
        return t
    return _each(preds, one)


def accuracy_table(preds: Predictions, thresholds: Sequence[float] | np.ndarray = THRESHOLD_GRID) -> pd.DataFrame:
    """Accuracy mean(1[OS(x, D) > T] = 1[x contains D]) against T, for each D: at the set strengths with F_x
    from f_θ(x) and from each reference, and over all strengths with F_x from f_θ(x). Columns threshold,
    degradation, inputs ('set strengths' / 'all strengths'), fx, accuracy."""
    grid = np.asarray(thresholds, dtype=np.float64)

    def one(p: Prediction) -> pd.DataFrame:
        rows = []
        for d in p.degradations:
            settings = [("set strengths", fx, p.tests.decision(d, "set", "set")) for fx in ["target", *p.references]]
            settings.append(("all strengths", "target", p.tests.decision(d, "all", "all")))
            for inputs, fx, (mask, y) in settings:
                rows.append(pd.DataFrame(dict(threshold=grid, degradation=d, inputs=inputs, fx=fx,
                                              accuracy=accuracy_curve(p.overlaps("faig", fx)[d][mask], y, grid))))
        return pd.concat(rows, ignore_index=True)
    return _each(preds, one)


def _roc_rows(p: Prediction, points: bool) -> list[dict]:
    rows = []
    for d in p.degradations:
        sym, stat = _symbol(d), p.statistics(d)
        curves = [("faig", s, p.tests.decision(d, s, "all")) for s in _levels(p, d)]
        if stat is not None:
            curves.append(("classical", "set", p.tests.decision(d, "set", "all")))
        for predictor, s, (mask, y) in curves:
            score = (p.overlaps()[d] if predictor == "faig" else stat)[mask]
            strength = degradation(d).steps[0][1] if s == "set" and len(degradation(d).steps) == 1 else s
            name = "FAIG OS" if predictor == "faig" else "classical"
            row = dict(degradation=d, predictor=predictor, strength=np.nan if strength == "set" else float(strength),
                       curve=f"{name}, {sym} = {strength:g}" if strength != "set" else name, auc=auc(score, y))
            if points:
                row["fpr"], row["tpr"] = roc_curve(score, y)
            elif predictor == "faig":
                row["classical"] = auc(stat[mask], y) if stat is not None else np.nan
            rows.append(row)
    return rows


def roc_table(preds: Predictions) -> pd.DataFrame:
    """ROC curves of "does x contain D?", one point a row: for each strength s of D, FAIG's OS(x, D) with
    positives D at s and negatives every input without D; and the classical statistic with positives at
    the set strength. Columns degradation, predictor, strength, curve, auc, fpr, tpr."""
    return _each(preds, lambda p: pd.DataFrame(_roc_rows(p, True)).explode(["fpr", "tpr"], ignore_index=True)
                 .astype({"fpr": float, "tpr": float}))


def auc_table(preds: Predictions) -> pd.DataFrame:
    """AUC of FAIG's OS(x, D) and of the classical statistic on the same inputs (NaN: no estimator), per
    degradation and strength (positives D at that strength, negatives every input without D)."""
    return _each(preds, lambda p: pd.DataFrame([r for r in _roc_rows(p, False) if r["predictor"] == "faig"])
                 [["degradation", "strength", "auc", "classical"]])


def confusion_table(preds: Predictions) -> pd.DataFrame:
    """tp, fn, fp, tn and accuracy of "OS(x, D) > T" at the set strengths, at the paper's T (where D has
    one) and at the calibrated T."""
    def one(p: Prediction) -> pd.DataFrame:
        rows = []
        for d in p.degradations:
            mask, y = p.tests.decision(d)
            o = p.overlaps()[d][mask]
            ts = [("paper", p.thresholds[d])] if d in p.thresholds else []
            ts.append(("calibrated", p.calibrated_threshold(d)))
            for which, t in ts:
                rows.append(dict(degradation=d, threshold=f"{which} T = {t:.3g}", **confusion(o, y, t),
                                 accuracy=accuracy(o, y, t)))
        return pd.DataFrame(rows)
    return _each(preds, one)


def predictor_table(preds: Predictions) -> pd.DataFrame:
    """At the set strengths, for each D: AUC and accuracies (paper T; T calibrated on the dataset root's
    images) of OS(x, D) with F_D from every ranking (F_x from f_θ(x)), of FAIG's F_D with F_x from each
    reference, and of the classical statistic (``fx`` names it; all NaN where D has none). Columns
    degradation, predictor, fx, auc, acc_paper, acc_calibrated."""
    def one(p: Prediction) -> pd.DataFrame:
        rows = []
        for d in p.degradations:
            mask, y = p.tests.decision(d)
            t = p.thresholds.get(d)
            for m, fx in [(m, "target") for m in p.methods] + [("faig", ref) for ref in p.references]:
                o = p.overlaps(m, fx)[d][mask]
                rows.append(dict(degradation=d, predictor=m, fx=fx, auc=auc(o, y),
                                 acc_paper=accuracy(o, y, t) if t is not None else np.nan,
                                 acc_calibrated=accuracy(o, y, p.calibrated_threshold(d, m)) if fx == "target"
                                 else np.nan))
            stat, s = p.statistic(d), p.statistics(d)
            rows.append(dict(degradation=d, predictor="classical", fx=stat.label if stat else "none (no estimator)",
                             auc=auc(s[mask], y) if stat else np.nan, acc_paper=np.nan,
                             acc_calibrated=accuracy(s[mask], y, p.statistic_threshold(d)) if stat else np.nan))
        return pd.DataFrame(rows)
    return _each(preds, one)


def _components(p: Prediction, mix: str) -> list[str]:
    return [d for d in p.degradations if all(degradation(mix).has(op) for op, _ in degradation(d).steps)]


def mixed_table(preds: Predictions) -> pd.DataFrame:
    """Mixed inputs (two or more degradations of the set at once): per mix and thresholds ('paper' where
    every degradation it contains has a paper T; 'calibrated'), the mean OS(x, D) and the fraction of
    "yes" for each D of the set (``says_{D}``; NaN without a threshold), and the fraction of inputs that
    get "yes" for every degradation they contain (``says_all``)."""
    def one(p: Prediction) -> pd.DataFrame:
        rows, o = [], p.overlaps()
        for mix in p.tests.mixes:
            rows_of = (p.tests.table.kind == mix).to_numpy()
            parts = _components(p, mix)
            ts = [("calibrated", {d: p.calibrated_threshold(d) for d in p.degradations})]
            if all(d in p.thresholds for d in parts):
                ts.insert(0, ("paper", p.thresholds))
            for which, t in ts:
                yes = {d: o[d][rows_of] > t[d] for d in p.degradations if d in t}
                rows.append(dict(mixed=mix, thresholds=which, inputs=int(rows_of.sum()),
                                 **{f"mean_os_{d}": o[d][rows_of].mean() for d in p.degradations},
                                 **{f"says_{d}": yes[d].mean() if d in yes else np.nan for d in p.degradations},
                                 says_all=np.logical_and.reduce([yes[d] for d in parts]).mean()))
        cols = ["mixed", "thresholds", "inputs", *(f"mean_os_{d}" for d in p.degradations),
                *(f"says_{d}" for d in p.degradations), "says_all"]
        return pd.DataFrame(rows, columns=cols)
    return _each(preds, one)


def k_table(preds: Predictions, percents: Sequence[float]) -> pd.DataFrame:
    """The dependence on k: the same attributions with F_D and F_x cut at each top-p% (thresholds
    recalibrated for each p), at the set strengths: AUC, accuracy at the paper's T and at the calibrated T.
    Columns percent, k, degradation, auc, acc_paper, acc_calibrated."""
    def one(p: Prediction) -> pd.DataFrame:
        rows = []
        for pc in percents:
            o = p.overlaps(percent=pc)
            for d in p.degradations:
                mask, y = p.tests.decision(d)
                t = p.thresholds.get(d)
                rows.append(dict(percent=float(pc), k=p.k(pc), degradation=d, auc=auc(o[d][mask], y),
                                 acc_paper=accuracy(o[d][mask], y, t) if t is not None else np.nan,
                                 acc_calibrated=accuracy(o[d][mask], y, p.calibrated_threshold(d, percent=pc))))
        return pd.DataFrame(rows)
    return _each(preds, one)


def prediction_claims(preds: Predictions, accuracy_bar: float = 0.95, claims: Claims | None = None) -> Claims:
    """The claims of notebook 05, per pair and degradation D (reported, never raised): the paper's T_D
    reaches the paper's accuracy; a calibrated T_D reaches it (``accuracy_bar`` where the paper reports
    none); FAIG's F_D beats every other ranking's (AUC); the filters beat the classical statistic (where D
    has one); F_x needs no ground truth (AUC within 0.05 of F_x from it); and per mix, a majority of its
    inputs gets "yes" for every degradation it contains."""
    from ..viz.style import method_label

    claims = Claims() if claims is None else claims
    for p in _list(preds):
        c = predictor_table(p).set_index(["degradation", "predictor", "fx"])
        for d in p.degradations:
            main = c.loc[(d, "faig", "target")]
            bar = p.paper_accuracy.get(d, accuracy_bar)
            if d in p.paper_accuracy:
                claims.add(f"{d}: paper's T = {p.thresholds[d]:g} reaches the paper's {bar:.0%}", main.acc_paper >= bar,
                           f"{main.acc_paper:.1%} (AUC {main.auc:.3f})",
                           "the OS scale of this pair differs from the paper's: the threshold does not transfer"
                           if main.auc >= 0.9 else "the overlap score separates poorly here", subject=p.net)
            claims.add(f"{d}: calibrated T = {p.calibrated_threshold(d):.2f} reaches "
                       + ("it" if d in p.paper_accuracy else f"{bar:.0%}"), main.acc_calibrated >= bar,
                       f"{main.acc_calibrated:.1%}", "the filter sets overlap between classes for some inputs",
                       subject=p.net)
            others = [m for m in p.methods if m != "faig"]
            if others:
                best = max(others, key=lambda m: c.loc[(d, m, "target")].auc)
                other = c.loc[(d, best, "target")].auc
                claims.add(f"{d}: FAIG F_D beats {', '.join(method_label(m) for m in others)} (AUC)", main.auc > other,
                           f"{main.auc:.3f} vs {method_label(best)} {other:.3f}",
                           "another ranking's set predicts as well", subject=p.net)
            stat = p.statistic(d)
            if stat is not None:
                cl = c.loc[(d, "classical", stat.label)]
                claims.add(f"{d}: filters beat the one-line statistic (AUC)", main.auc > cl.auc,
                           f"{main.auc:.3f} vs {cl.auc:.3f}",
                           "a classical image statistic predicts as well, with no network", subject=p.net)
            if "gt" in p.references:
                g = c.loc[(d, "faig", "gt")]
                claims.add(f"{d}: no ground truth needed (AUC within 0.05 of GT F_x)", main.auc >= g.auc - 0.05,
                           f"{main.auc:.3f} vs {g.auc:.3f}", "F_x from the target's output loses information",
                           subject=p.net)
        mixed = mixed_table(p)
        for mix in p.tests.mixes:
            m = mixed[(mixed.mixed == mix) & (mixed.thresholds == "calibrated")].iloc[0]
            parts = _components(p, mix)
            each = ", ".join(f"{d} {m['says_' + d]:.0%}" for d in parts)
            claims.add(f"{mix} inputs: yes to {'both' if len(parts) == 2 else 'all'} (calibrated T, majority)",
                       m.says_all > 0.5, f"{m.says_all:.0%} ({each})",
                       "one degradation's filters dominate F_x when both are present", subject=p.net)
    return claims


def _mean(o: np.ndarray, rows: np.ndarray) -> float:
    return float(o[rows].mean()) if rows.any() else float("nan")


def describe_accuracy(preds: Predictions) -> str:
    """What the accuracy figure shows, per pair and D, in sentences: the accuracy at the paper's T (or the
    calibrated T where there is none), the best accuracy and the thresholds that reach it, and the mean
    OS(x, D) on inputs with D, on clean inputs and on inputs with each other degradation (set strengths)."""
    lines = []
    for p in _list(preds):
        t = p.tests.table
        at_set, kind = t.set_strength.to_numpy(bool) & ~t.mixed.to_numpy(bool), t.kind.to_numpy()
        for d in p.degradations:
            mask, y = p.tests.decision(d)
            o = p.overlaps()[d]
            acc = accuracy_curve(o[mask], y, THRESHOLD_GRID)
            best = acc.max()
            lo, hi = THRESHOLD_GRID[acc == best].min(), THRESHOLD_GRID[acc == best].max()
            if d in p.thresholds:
                T = p.thresholds[d]
                paper = f" (paper {p.paper_accuracy[d]:.0%})" if d in p.paper_accuracy else ""
                head = f"at the paper's T = {T:g} the accuracy is {accuracy(o[mask], y, T):.0%}{paper}"
            else:
                T = p.calibrated_threshold(d)
                head = (f"no paper threshold; at the calibrated T = {T:.2f} the accuracy is "
                        f"{accuracy(o[mask], y, T):.0%}")
            own = at_set & (kind == d)
            rest = ", ".join(f"{_mean(o, at_set & (kind == e)):.2f} on {degradation(e).input} ones"
                             for e in p.degradations if e != d)
            lines.append(f"{p.net}, {d}: {head}; the best, {best:.0%}, is reached for T in [{lo:.2f}, {hi:.2f}]. "
                         f"Mean OS(x, {d}): {_mean(o, own):.2f} on {degradation(d).input} inputs "
                         f"({np.mean(o[own] > T):.0%} above T), {_mean(o, at_set & (kind == 'clean')):.2f} on clean "
                         f"ones, {rest}.")
    return "\n".join(lines)


def describe_auc(preds: Predictions) -> str:
    """What the ROC figure shows, per pair and D: the range of FAIG's AUC over the strengths (and where its
    ends are) and the range of the classical statistic's."""
    lines = []
    for p in _list(preds):
        a = auc_table(p)
        for d, g in a.groupby("degradation", sort=False):
            sym = _symbol(d)
            lo, hi = g.loc[g.auc.idxmin()], g.loc[g.auc.idxmax()]

            def where(r: pd.Series) -> str:
                return f" ({sym} = {r.strength:g})" if np.isfinite(r.strength) else ""

            stat = (f"the classical statistic {g.classical.min():.2f} to {g.classical.max():.2f}"
                    if g.classical.notna().all() else f"no classical statistic for {d}")
            lines.append(f"{p.net}, {d}: AUC of the overlap score from {lo.auc:.2f}{where(lo)} to "
                         f"{hi.auc:.2f}{where(hi)}; {stat}.")
    return "\n".join(lines)


def describe_mixed(preds: Predictions) -> str:
    """Per pair and mix: the mean OS(x, D) on the mixed inputs for each degradation they contain, beside its
    mean on inputs with that degradation alone (set strength)."""
    lines = []
    for p in _list(preds):
        t, o = p.tests.table, p.overlaps()
        at_set = t.set_strength.to_numpy(bool) & ~t.mixed.to_numpy(bool)
        for mix in p.tests.mixes:
            rows = (t.kind == mix).to_numpy()
            parts = [f"{_mean(o[d], rows):.2f} for {d} "
                     f"({d}-only inputs: {_mean(o[d], at_set & (t.kind == d).to_numpy()):.2f})"
                     for d in _components(p, mix)]
            lines.append(f"{p.net}: on {mix} inputs the mean OS is {' and '.join(parts)}.")
    return "\n".join(lines)
