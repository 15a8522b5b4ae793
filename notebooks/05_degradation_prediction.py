# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
pairs = {  # network name -> (baseline θ̄ checkpoint, target θ checkpoint), BasicSR format
    "srresnet": ("../data/models/srresnet_x2_baseline.pth", "../data/models/srresnet_x2_target.pth"),
    "srcnn_style": ("../data/models/srcnn_style_x2_baseline.pth", "../data/models/srcnn_style_x2_target.pth"),
}
net = None  # one network of `pairs` (None: every pair)
dataset_root = "../data/datasets/embedded"  # the images F_D is found on (notebook 01's rankings)
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
methods = ["faig", "ig", "abs_filter_change", "random"]  # dataset-level sets F_D compared
n_steps = None  # quadrature nodes of the dataset-level rankings (None: the library default; notebook 01's are reused)
quadrature = None  # quadrature rule of the dataset-level rankings (None: the library default)
input_quadrature = "riemann_middle"  # rule of each per-input attribution F_x (many small inputs: a fixed, cheap rule)
input_steps = 8  # its nodes; top-1% sets agree with 16 nodes (Jaccard ≈ 0.94 / 0.99)
device = None  # e.g. "cuda"
top_percent = 1.0  # size of F_D and F_x: k = ⌊n · p / 100⌋
percents = [0.5, 1.0, 2.0, 5.0, 10.0]  # k dependence
thresholds = {"blur": 0.5, "noise": 0.6}  # T_D (the paper's)
paper_accuracy = {"blur": 0.96, "noise": 0.98}  # what the paper reports at those thresholds
strengths = {"blur": [1.0, 2.0, 3.0], "noise": [0.05, 0.1, 0.15]}  # σ of the test inputs
paper_strengths = {"blur": 2.0, "noise": 0.1}  # the strengths F_D is found at and the paper tested
mixed_strengths = [[2.0, 0.1]]  # (σ_blur, σ_noise) of the blur+noise inputs
references = ["gt", "baseline"]  # other ŷ for F_x, on the paper-strength inputs: ground truth, f_θ̄(x)
test_hr_folder = None  # HR test photos (None: the embedded default's held-out photos, away from the evaluation crops)
crops_per_photo = 2
crop_size = 24  # LR pixels of each test input
seed = 0

# %% [markdown]
# # 05 — Which degradation does an input carry? Prediction from the discovered filters
#
# The paper's last claim: with the discovered filters one can tell whether an input is blurry or
# noisy **without training anything**. For a degradation D let F_D be the dataset-level top-k set of
# D-filters (notebook 01's ranking) and F_x the top-k set of filters found for one input x alone:
#
# $$\mathrm{OS}(x, D) = \frac{|F_D \cap F_x|}{|F_x|}, \qquad
#   \text{predict "x contains } D\text{"} \iff \mathrm{OS}(x, D) > T_D .$$
#
# Each degradation is its own yes/no decision. The paper: **96 %** accuracy for blur at T = 0.5 and
# **98 %** for noise at T = 0.6 (the same k = 1 %).
#
# **F_x without ground truth.** F_x is the top-k of FAIG's per-input attribution
# $A_x = \sum_{3\times3} |G_x \odot (\bar\theta - \theta)|$ with
# $G_x = \int_0^1 \nabla_\theta L(\theta(\alpha), x)\,d\alpha$. A real input has no ground truth, so
# the loss is measured against an output the models provide: by default the **target's own output**
# $\hat y = f_\theta(x)$, $L = \sum (f_{\theta(\alpha)}(x) - f_\theta(x))^2$. The target is the better
# restorer of degraded inputs, so its output is the best available estimate of y; A_x then splits
# the change the fine-tune makes *on this input* over the filters — a blurry input makes the target
# deblur, so the deblur filters should dominate. We also measure $\hat y = f_{\bar\theta}(x)$ (the
# baseline's output) and the true ground truth (a reference: what is lost without it).
#
# **Test inputs** are held out twice: crops of photos never used for training, at positions that do
# not overlap the evaluation crops F_D was found on; clean, blurry, noisy and blur+noise at several
# strengths (`strengths`; by default blur σ = 1, 2, 3 and noise σ = 0.05, 0.1, 0.15), built with the
# project's degradation code, seeded.
#
# **Comparisons.** The same rule with F_D from IG, |Δθ| and random rankings (same F_x), and two
# classical one-line statistics with no network at all: the variance of the Laplacian (blur lowers
# it) and Donoho's noise estimate σ̂ = median(|HH|) / 0.6745 on the finest diagonal Haar subband.
# The statistics have no natural threshold, so every predictor also gets a threshold **calibrated**
# on the dataset root's own clean / blurry / noisy images (the ones F_D is found on — disjoint from
# the test set), and the AUC, which needs no threshold.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from faig_helpers import plots
from faig_helpers import prediction as pred
from faig_helpers.archs import describe
from faig_helpers.attribution import FAIG
from faig_helpers.checkpoint import load_pair
from faig_helpers.claims import Claims
from faig_helpers.degradations import DEGRADATIONS, load_dataset
from faig_helpers.filters import top_count
from faig_helpers.io_utils import atomic_write_text, output_dirs
from faig_helpers.rankings import rank_all

plots.use_style()
results_dir, figures_dir = output_dirs(results_dir, figures_dir)
nets = list(pairs) if net is None else [net]
if "faig" not in methods:
    raise ValueError(f"methods must include 'faig' (the predictor under test), got {methods}")
for d in DEGRADATIONS:
    if paper_strengths[d] not in strengths[d]:
        raise ValueError(f"paper_strengths['{d}'] = {paper_strengths[d]} must be one of strengths['{d}'] = {strengths[d]}")
data = load_dataset(dataset_root)
models = {name: load_pair(*pairs[name]) for name in nets}
for name, (_, target) in models.items():
    if describe(target.state_dict())["upscale"] != data.scale:
        raise ValueError(f"{name} is ×{describe(target.state_dict())['upscale']} but {dataset_root} is ×{data.scale}")
ranked = {name: rank_all(*models[name], data, results=results_dir, net=name, dataset=dataset_name, methods=methods,
                         n_steps=n_steps, quadrature=quadrature, device=device, progress=False) for name in nets}
OTHER = {d: DEGRADATIONS[d].other.name for d in DEGRADATIONS}
T = {d: float(thresholds[d]) for d in DEGRADATIONS}
print(f"{len(nets)} pair(s): {', '.join(nets)}; ×{data.scale}; F_D from {len(data)} images of {dataset_name}")

# %% [markdown]
# ## The test inputs

# %%
if test_hr_folder is None:
    photos, avoid = pred.heldout_photos()
else:
    photos, avoid = pred.load_photos(test_hr_folder), {}
crops = pred.pick_crops(photos, pred.hr_window(data.scale, crop_size), crops_per_photo, seed, avoid)
inputs = pred.build_test_set(crops, data.scale, crop_size, strengths["blur"], strengths["noise"], mixed_strengths, seed)
tests = pred.inputs_table(inputs)
paper_rows = (tests.blur_sigma.isin([0, paper_strengths["blur"]]) & tests.noise_sigma.isin([0, paper_strengths["noise"]])
              & ((tests.blur_sigma == 0) | (tests.noise_sigma == 0))).to_numpy()  # clean or one degradation
calibration = pred.calibration_inputs(data, crop_size)
print(f"{len(crops)} crops of {crop_size}×{crop_size} LR pixels ({len(photos)} photos) → {len(inputs)} test inputs; "
      f"{len(calibration)} calibration inputs from the dataset root")
tests.groupby(["degradations", "blur_sigma", "noise_sigma"]).size().rename("inputs").to_frame()

# %% [markdown]
# ## Per-input filter sets
# One FAIG attribution per input: every test input with ŷ = f_θ(x); the clean and single-degradation
# inputs at the paper's strengths also with the references; the calibration inputs with ŷ = f_θ(x).

# %%
steps = input_steps
A, seconds = {}, {}
for name in nets:
    faig = FAIG(*models[name], device=device)
    t0 = time.perf_counter()
    A[name] = {"target": pred.input_attributions(faig, inputs, "target", steps, input_quadrature)[0],
               "calibration": pred.input_attributions(faig, calibration, "target", steps, input_quadrature)[0]}
    for ref in references:
        full = np.full_like(A[name]["target"], np.nan)
        full[paper_rows] = pred.input_attributions(faig, [x for x, r in zip(inputs, paper_rows) if r], ref, steps,
                                                   input_quadrature)[0]
        A[name][ref] = full
    seconds[name] = time.perf_counter() - t0
print("per-input attributions:", ", ".join(f"{n} {s:.1f} s" for n, s in seconds.items()))

# %% [markdown]
# Overlap scores for every input, F_D from every method; the classical statistics
# (blur statistic −log₁₀ var(∇²Y): higher = blurrier; noise statistic σ̂).

# %%
def overlaps(a: np.ndarray, name: str, method: str, percent: float) -> dict[str, np.ndarray]:
    """OS(x, D) of the rows of ``a`` for both D, F_D from ``method``'s ranking (NaN rows stay NaN)."""
    ok = ~np.isnan(a).any(axis=1)
    out = {}
    for d in DEGRADATIONS:
        s = np.full(len(a), np.nan)
        s[ok] = pred.overlap_scores(ranked[name][method].top(d, percent), a[ok], percent)
        out[d] = s
    return out


def classical(xs: list) -> dict[str, np.ndarray]:
    return {"blur": np.array([-np.log10(pred.laplacian_variance(x.lr)) for x in xs]),
            "noise": np.array([pred.noise_sigma_mad(x.lr) for x in xs])}


stat, stat_cal = classical(inputs), classical(calibration)
cal_table = pred.inputs_table(calibration)
OS = {name: {(m, "target"): overlaps(A[name]["target"], name, m, top_percent) for m in methods} for name in nets}
for name in nets:
    OS[name].update({("faig", ref): overlaps(A[name][ref], name, "faig", top_percent) for ref in references})
    k = top_count(A[name]["target"].shape[1], top_percent)
    for (m, fx), o in OS[name].items():  # invariants for any pair: OS ∈ [0, 1], a multiple of 1/k
        for s in o.values():
            s = s[~np.isnan(s)]
            assert ((0 <= s) & (s <= 1)).all() and np.allclose(s * k, np.round(s * k))
    if "abs_filter_change" in methods:  # |Δθ| has one order for both degradations
        assert np.array_equal(OS[name][("abs_filter_change", "target")]["blur"], OS[name][("abs_filter_change", "target")]["noise"])
print(f"k = {top_percent:g}% of the filters:", ", ".join(f"{n} {top_count(A[n]['target'].shape[1], top_percent)}" for n in nets))

# %%
saved = {}
for name in nets:
    o = OS[name][("faig", "target")]
    saved[name] = scores = tests.assign(os_blur=o["blur"], os_noise=o["noise"],
                          **{f"os_{d}_{ref}": OS[name][("faig", ref)][d] for ref in references for d in DEGRADATIONS},
                          neg_log10_laplacian_var=stat["blur"], noise_sigma_mad=stat["noise"])
    atomic_write_text(results_dir / "prediction" / name / dataset_name / "scores.csv", scores.to_csv(index=False))
pd.concat({n: s.groupby("degradations")[["os_blur", "os_noise"]].mean() for n, s in saved.items()}).round(3)

# %% [markdown]
# ## Accuracy against the threshold — the paper's figure
# Each decision "does x contain D?" on the single-degradation inputs: at the paper's strengths
# (clean, blur σ = 2, noise σ = 0.1) with each kind of F_x, and over all strengths. The star is the
# paper's reported accuracy at its threshold.

# %%
grid = np.round(np.linspace(0, 1, 101), 2)
PS = {d: [paper_strengths[d]] for d in DEGRADATIONS}
colors = {"all strengths": "0.45"}
curves, acc_rows = [], []
for name in nets:
    for d in DEGRADATIONS:
        settings = [("paper strengths", fx, pred.decision_rows(tests, d, PS[d], PS[OTHER[d]])) for fx in ["target", *references]]
        settings.append(("all strengths", "target", pred.decision_rows(tests, d)))
        for inputs_label, fx, (mask, y) in settings:
            acc = pred.accuracy_curve(OS[name][("faig", fx)][d][mask], y, grid)
            label = f"{plots.FX_LABELS[fx]}, {inputs_label}"
            curves.append(pd.DataFrame(dict(net=name, threshold=grid, degradation=d, accuracy=acc, label=label,
                                            style=plots.FX_STYLES[fx], color=[colors.get(inputs_label, plots.PALETTE[d])] * len(grid),
                                            inputs=inputs_label, fx=fx)))
curves = pd.concat(curves, ignore_index=True)
for name in nets:
    atomic_write_text(results_dir / "prediction" / name / dataset_name / "accuracy.csv",
                      curves[curves.net == name][["threshold", "degradation", "inputs", "fx", "accuracy"]].to_csv(index=False))
fig, axes = plt.subplots(len(nets), 2, figsize=(11, 3.8 * len(nets)), squeeze=False)
paper = {d: dict(threshold=T[d], accuracy=paper_accuracy[d]) for d in DEGRADATIONS}
for row, name in zip(axes, nets):
    plots.plot_accuracy_vs_threshold(curves[curves.net == name], paper, f"{name} (k = {top_percent:g}%)", row)
fig.tight_layout()
plots.savefig(fig, "05_accuracy_vs_threshold.png", figures_dir)

# %%
for name in nets:
    for d in DEGRADATIONS:
        c = curves[(curves.net == name) & (curves.degradation == d) & (curves.label.str.startswith(plots.FX_LABELS["target"]))
                   & (curves.inputs == "paper strengths")]
        best = c.accuracy.max()
        lo, hi = c.threshold[c.accuracy == best].min(), c.threshold[c.accuracy == best].max()
        at_t = float(np.interp(T[d], c.threshold, c.accuracy))
        o, ts = OS[name][("faig", "target")][d], tests
        own = ((ts[f"{d}_sigma"] == paper_strengths[d]) & (ts[f"{OTHER[d]}_sigma"] == 0)).to_numpy()
        clean = ((ts.blur_sigma == 0) & (ts.noise_sigma == 0)).to_numpy()
        other = ((ts[f"{OTHER[d]}_sigma"] == paper_strengths[OTHER[d]]) & (ts[f"{d}_sigma"] == 0)).to_numpy()
        print(f"{name}, {d}: at the paper's T = {T[d]:g} the accuracy is {at_t:.0%} (paper {paper_accuracy[d]:.0%}); "
              f"the best, {best:.0%}, is reached for T in [{lo:.2f}, {hi:.2f}]. Mean OS(x, {d}): {o[own].mean():.2f} on "
              f"{DEGRADATIONS[d].input} inputs ({(o[own] > T[d]).mean():.0%} above T), {o[clean].mean():.2f} on clean "
              f"ones, {o[other].mean():.2f} on {DEGRADATIONS[OTHER[d]].input} ones.")

# %% [markdown]
# ## ROC curves, per degradation and strength
# Positives: inputs carrying only D at one strength; negatives: clean inputs and inputs carrying
# only the other degradation (every strength). Grey dashed: the classical statistic at the paper's
# strength.

# %%
auc_rows = []
fig, axes = plt.subplots(len(nets), 2, figsize=(10, 4.6 * len(nets)), squeeze=False)
for row, name in zip(axes, nets):
    for ax, d in zip(row, DEGRADATIONS):
        shades = sns.light_palette(plots.PALETTE[d], len(strengths[d]) + 2)[2:]
        rocs, cols, styles = {}, {}, {}
        for s, c in zip(strengths[d], shades):
            mask, y = pred.decision_rows(tests, d, [s])
            o = OS[name][("faig", "target")][d][mask]
            area = pred.auc(o, y)
            rocs[f"FAIG OS, σ = {s:g}"] = (*pred.roc_curve(o, y), area)
            cols[f"FAIG OS, σ = {s:g}"] = c
            auc_rows.append(dict(net=name, degradation=d, sigma=s, predictor="FAIG OS", auc=area,
                                 classical=pred.auc(stat[d][mask], y)))
        mask, y = pred.decision_rows(tests, d, PS[d])
        label = f"classical, σ = {paper_strengths[d]:g}"
        rocs[label] = (*pred.roc_curve(stat[d][mask], y), pred.auc(stat[d][mask], y))
        cols[label], styles[label] = "0.5", "--"
        plots.plot_roc_curves(rocs, f"{name}: does x contain {d}?", cols, styles, ax)
fig.tight_layout()
plots.savefig(fig, "05_roc.png", figures_dir)
aucs = pd.DataFrame(auc_rows)
for (name, d), a in aucs.groupby(["net", "degradation"], sort=False):
    print(f"{name}, {d}: AUC of the overlap score from {a.auc.min():.2f} (σ = {a.sigma[a.auc.idxmin()]:g}) to "
          f"{a.auc.max():.2f} (σ = {a.sigma[a.auc.idxmax()]:g}); the classical statistic {a.classical.min():.2f} to "
          f"{a.classical.max():.2f}.")
aucs.pivot_table(index=["net", "degradation", "sigma"], values=["auc", "classical"]).round(3).rename(
    columns={"auc": "AUC, FAIG OS", "classical": "AUC, classical"})

# %% [markdown]
# ## Confusion tables at the paper's strengths
# At the paper's thresholds and at thresholds calibrated on the dataset root's images.

# %%
def calibrated(name: str, method: str, d: str, percent: float = top_percent) -> float:
    """T_D calibrated on the dataset root's clean / blurry / noisy images (F_x from f_θ(x))."""
    o = overlaps(A[name]["calibration"], name, method, percent)[d]
    return pred.calibrate_threshold(o, cal_table[f"{d}_sigma"].to_numpy() > 0)


T_cal = {(name, d): calibrated(name, "faig", d) for name in nets for d in DEGRADATIONS}
rows = []
for name in nets:
    for d in DEGRADATIONS:
        mask, y = pred.decision_rows(tests, d, PS[d], PS[OTHER[d]])
        for which, t in (("paper", T[d]), ("calibrated", T_cal[name, d])):
            rows.append(dict(net=name, degradation=d, threshold=f"{which} T = {t:.3g}",
                             **pred.confusion(OS[name][("faig", "target")][d][mask], y, t),
                             accuracy=pred.accuracy(OS[name][("faig", "target")][d][mask], y, t)))
confusions = pd.DataFrame(rows)
confusions.set_index(["net", "degradation", "threshold"]).round(3)

# %% [markdown]
# ## FAIG against IG, |Δθ|, random sets, the references and a one-line statistic
# At the paper's strengths (single-degradation inputs). Every F_D predictor uses the same per-input
# F_x; the classical statistic uses no network. `acc (paper T)` only applies to overlap scores;
# `acc (calibrated T)`: the threshold calibrated on the dataset root's images.

# %%
rows = []
for name in nets:
    for d in DEGRADATIONS:
        mask, y = pred.decision_rows(tests, d, PS[d], PS[OTHER[d]])
        cands = [(m, "target") for m in methods] + [("faig", ref) for ref in references]
        for m, fx in cands:
            o = OS[name][(m, fx)][d][mask]
            rows.append(dict(net=name, degradation=d, predictor=m, fx=fx, auc=pred.auc(o, y),
                             acc_paper=pred.accuracy(o, y, T[d]),
                             acc_calibrated=pred.accuracy(o, y, calibrated(name, m, d)) if fx == "target" else np.nan))
        t_stat = pred.calibrate_threshold(stat_cal[d], cal_table[f"{d}_sigma"].to_numpy() > 0)
        rows.append(dict(net=name, degradation=d, predictor="classical", fx="—", auc=pred.auc(stat[d][mask], y),
                         acc_paper=np.nan, acc_calibrated=pred.accuracy(stat[d][mask], y, t_stat)))
compare = pd.DataFrame(rows)
values = compare[["auc", "acc_paper", "acc_calibrated"]].to_numpy(float)
assert ((values[~np.isnan(values)] >= 0) & (values[~np.isnan(values)] <= 1)).all()  # for any pair
compare.set_index(["net", "degradation", "predictor", "fx"]).round(3)

# %% [markdown]
# ## Mixed inputs: blur and noise at once — does it say yes to both?

# %%
rows = []
mixed = ((tests.blur_sigma > 0) & (tests.noise_sigma > 0)).to_numpy()
for name in nets:
    o = OS[name][("faig", "target")]
    for which, t in (("paper", T), ("calibrated", {d: T_cal[name, d] for d in DEGRADATIONS})):
        yes = {d: o[d][mixed] > t[d] for d in DEGRADATIONS}
        rows.append(dict(net=name, thresholds=which, inputs=int(mixed.sum()), mean_os_blur=o["blur"][mixed].mean(),
                         mean_os_noise=o["noise"][mixed].mean(), says_blur=yes["blur"].mean(),
                         says_noise=yes["noise"].mean(), says_both=(yes["blur"] & yes["noise"]).mean()))
mixed_table = pd.DataFrame(rows)
mixed_table.set_index(["net", "thresholds"]).round(3)

# %%
for name in nets:
    o = OS[name][("faig", "target")]
    single = {d: ((tests[f"{d}_sigma"] == paper_strengths[d]) & (tests[f"{OTHER[d]}_sigma"] == 0)).to_numpy()
              for d in DEGRADATIONS}
    print(f"{name}: on blur+noise inputs the mean OS is {o['blur'][mixed].mean():.2f} for blur (blur-only inputs: "
          f"{o['blur'][single['blur']].mean():.2f}) and {o['noise'][mixed].mean():.2f} for noise (noise-only inputs: "
          f"{o['noise'][single['noise']].mean():.2f}).")

# %% [markdown]
# ## How results depend on k
# The same attributions, F_D and F_x cut at other sizes (thresholds recalibrated for each k).

# %%
rows = []
for name in nets:
    for p in percents:
        if top_count(A[name]["target"].shape[1], p) < 1:
            continue
        o = overlaps(A[name]["target"], name, "faig", p)
        for d in DEGRADATIONS:
            mask, y = pred.decision_rows(tests, d, PS[d], PS[OTHER[d]])
            rows.append(dict(net=name, percent=p, degradation=d, auc=pred.auc(o[d][mask], y),
                             acc_paper=pred.accuracy(o[d][mask], y, T[d]),
                             acc_calibrated=pred.accuracy(o[d][mask], y, calibrated(name, "faig", d, p))))
by_k = pd.DataFrame(rows)
fig, axes = plt.subplots(len(nets), 2, figsize=(12, 3.9 * len(nets)), squeeze=False,
                         gridspec_kw={"width_ratios": [1.6, 1]})
for row, name in zip(axes, nets):
    plots.plot_predictor_auc(compare[(compare.net == name) & ((compare.fx == "target") | (compare.fx == "—"))], f"{name}: "
                             f"AUC at the paper's strengths (k = {top_percent:g}%)", row[0])
    plots.plot_auc_vs_percent(by_k[by_k.net == name], f"{name}: FAIG OS against k", row[1])
fig.tight_layout()
plots.savefig(fig, "05_predictors.png", figures_dir)
by_k.pivot_table(index=["net", "percent"], columns="degradation", values=["auc", "acc_paper", "acc_calibrated"]).round(3)

# %% [markdown]
# ## Claims
# What the prediction does on these pairs is reported, not asserted (a ✗ is a finding). "Paper
# strengths": clean inputs, blur σ = 2 and noise σ = 0.1, single degradations.

# %%
# NBVAL_CHECK_OUTPUT
claims = Claims()
for name in nets:
    c = compare[compare.net == name].set_index(["degradation", "predictor", "fx"])
    for d in DEGRADATIONS:
        main = c.loc[(d, "faig", "target")]
        claims.add(f"{d}: paper's T = {T[d]:g} reaches the paper's {paper_accuracy[d]:.0%}",
                   main.acc_paper >= paper_accuracy[d], f"{main.acc_paper:.0%} (AUC {main.auc:.2f})",
                   "the OS scale of this pair differs from the paper's: the threshold does not transfer" if main.auc >= 0.9
                   else "the overlap score separates poorly here", subject=name)
        claims.add(f"{d}: calibrated T = {T_cal[name, d]:.2f} reaches it", main.acc_calibrated >= paper_accuracy[d],
                   f"{main.acc_calibrated:.0%}", "the filter sets overlap between classes for some inputs", subject=name)
        others = [m for m in methods if m != "faig"]
        best_other = max(others, key=lambda m: c.loc[(d, m, "target")].auc) if others else None
        if best_other:
            claims.add(f"{d}: FAIG F_D beats {', '.join(plots.METHOD_LABELS.get(m, m) for m in others)} (AUC)",
                       main.auc > c.loc[(d, best_other, "target")].auc,
                       f"{main.auc:.2f} vs {plots.METHOD_LABELS.get(best_other, best_other)} {c.loc[(d, best_other, 'target')].auc:.2f}",
                       "another ranking's set predicts as well", subject=name)
        cl = c.loc[(d, "classical", "—")]
        claims.add(f"{d}: filters beat the one-line statistic (AUC)", main.auc > cl.auc, f"{main.auc:.2f} vs {cl.auc:.2f}",
                   "a classical image statistic predicts as well, with no network", subject=name)
        if "gt" in references:
            g = c.loc[(d, "faig", "gt")]
            claims.add(f"{d}: no ground truth needed (AUC within 0.05 of GT F_x)", main.auc >= g.auc - 0.05,
                       f"{main.auc:.2f} vs {g.auc:.2f}", "F_x from the target's output loses information", subject=name)
    m = mixed_table[(mixed_table.net == name) & (mixed_table.thresholds == "calibrated")].iloc[0]
    claims.add("blur+noise inputs: yes to both (calibrated T, majority)", m.says_both > 0.5,
               f"{m.says_both:.0%} (blur {m.says_blur:.0%}, noise {m.says_noise:.0%})",
               "one degradation's filters dominate F_x when both are present", subject=name)
claims.show()
