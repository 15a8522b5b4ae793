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
# Common parameters, set by name here or by papermill like this notebook's own below (fl.Params): pairs,
# dataset_root, dataset_name, degradations, results_dir, figures_dir, device, methods, n_steps, quadrature
net = None  # one network of `pairs` (None: every pair)
input_quadrature = "riemann_middle"  # rule of each per-input attribution F_x (many small inputs: a fixed, cheap rule)
input_steps = 8  # its nodes; top-1% sets agree with 16 nodes (Jaccard ≈ 0.94 / 0.99)
top_percent = 1.0  # size of F_D and F_x: k is ⌊n · p / 100⌋ filters
percents = [0.5, 1.0, 2.0, 5.0, 10.0]  # k dependence
thresholds = {"blur": 0.5, "noise": 0.6}  # the paper's T_D (a degradation without one gets a calibrated T only)
paper_accuracy = {"blur": 0.96, "noise": 0.98}  # what the paper reports at those thresholds
accuracy_bar = 0.95  # the accuracy a calibrated T is held to where the paper reports none
strengths = {"blur": [1.0, 2.0, 3.0], "noise": [0.05, 0.1, 0.15], "jpeg": [30, 50, 70]}  # of the test inputs
mixed = None  # mixed test inputs, e.g. ["blur+noise"] (None: every two degradations of the set, at their strengths)
references = ["gt", "baseline"]  # other ŷ for F_x, on the inputs at the set's strengths: ground truth, f_θ̄(x)
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
# Each degradation of the pair's set is its own yes/no decision. The paper: **96 %** accuracy for
# blur at T = 0.5 and **98 %** for noise at T = 0.6 (the same k = 1 %). A degradation the paper did
# not test (e.g. JPEG) gets only a threshold calibrated on the dataset root's images.
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
# not overlap the evaluation crops F_D was found on; clean, each degradation of the set at several
# strengths (`strengths`) and mixed (two degradations at once), built with the project's
# degradation registry, seeded.
#
# **Comparisons.** The same rule with F_D from every other ranking (same F_x), and a classical
# one-line statistic per degradation with no network at all: the variance of the Laplacian (blur
# lowers it), Donoho's noise estimate σ̂ = median(|HH|) / 0.6745 on the finest diagonal Haar subband,
# and an 8×8 blockiness ratio for JPEG. The statistics have no natural threshold, so every predictor
# also gets a threshold **calibrated** on the dataset root's own clean and degraded images (the ones
# F_D is found on — disjoint from the test set), and the AUC, which needs no threshold.

# %%
import faig_helpers as fl

fl.viz.use_style()
params = fl.Params.from_namespace(globals())
lab = fl.setup(params, rank=False)
crop_size = lab.fit_crop(crop_size)  # ≥ each network's minimum input
nets = list(lab.pairs) if net is None else [net]
lab.rank(nets, progress=False)
for name in nets:
    p = lab.pairs[name]
    print(f"{name}: ×{p.scale}, F_D for {', '.join(p.degradations)} from {len(p.data)} images of {p.dataset_name}")

# %% [markdown]
# ## The test inputs

# %%
if test_hr_folder is None:
    photos, avoid = fl.prediction.heldout_photos()
else:
    photos, avoid = fl.prediction.load_photos(test_hr_folder), {}
tests, calibration = {}, {}
for name in nets:
    p = lab.pairs[name]
    crops = fl.prediction.pick_crops(photos, fl.prediction.hr_window(p.scale, crop_size), crops_per_photo, seed, avoid)
    tests[name] = fl.prediction.build_test_set(crops, p.scale, crop_size, p.degradations, strengths, mixed, seed)
    calibration[name] = fl.prediction.calibration_inputs(p.data, crop_size)
    print(f"{name}: {len(crops)} crops of {crop_size}×{crop_size} LR pixels ({len(photos)} photos) → "
          f"{len(tests[name])} test inputs; {len(calibration[name])} calibration inputs from the dataset root")
tests[nets[0]].summary()

# %% [markdown]
# ## Per-input filter sets
# One FAIG attribution per input: every test input with ŷ = f_θ(x); the clean and single-degradation
# inputs at the set's strengths also with the references; the calibration inputs with ŷ = f_θ(x).

# %%
P = {name: fl.prediction.prediction_experiment(lab.pairs[name], lab.rankings[name], tests[name], calibration[name],
                                    references=references, n_steps=input_steps, quadrature=input_quadrature,
                                    percent=top_percent, thresholds=thresholds, paper_accuracy=paper_accuracy,
                                    device=lab.device) for name in nets}
print("per-input attributions:", ", ".join(f"{n} {p.info['inputs']} inputs in {p.info['seconds']:.1f} s"
                                           for n, p in P.items()))
print(f"k = {top_percent:g}% of the filters:", ", ".join(f"{n} {p.k()}" for n, p in P.items()))

# %% [markdown]
# Overlap scores for every input, F_D from every method, and the classical statistics (each higher
# = more of its degradation). Mean OS(x, D) by kind of input:

# %%
scores = fl.prediction.prediction_scores(P)
os_columns = list(dict.fromkeys(f"os_{d}" for p in P.values() for d in p.degradations))
scores.groupby(["net", "kind"], sort=False)[os_columns].mean().round(3)

# %% [markdown]
# ## Accuracy against the threshold — the paper's figure
# Each decision "does x contain D?" on the clean and single-degradation inputs: at the set's strengths
# (the strengths F_D is found at) with each kind of F_x, and over all strengths. The star is the
# paper's reported accuracy at its threshold.

# %%
curves = fl.prediction.accuracy_table(P)
for name in nets:
    fl.prediction.save_prediction(P[name], lab.layout, scores, curves)
fig = fl.viz.plot_prediction_accuracy(curves, thresholds, paper_accuracy, top_percent)
lab.savefig(fig, "05_accuracy_vs_threshold.png")
print(fl.prediction.describe_accuracy(P))

# %% [markdown]
# ## ROC curves, per degradation and strength
# Positives: inputs carrying only D at one strength; negatives: clean inputs and inputs carrying
# another degradation (every strength). Grey dashed: the classical statistic at the set's strength.

# %%
fig = fl.viz.plot_prediction_rocs(fl.prediction.roc_table(P))
lab.savefig(fig, "05_roc.png")
aucs = fl.prediction.auc_table(P)
print(fl.prediction.describe_auc(P))
aucs.set_index(["net", "degradation", "strength"]).round(3).rename(
    columns={"auc": "AUC, FAIG OS", "classical": "AUC, classical"})

# %% [markdown]
# ## Confusion tables at the set's strengths
# At the paper's thresholds (where there is one) and at thresholds calibrated on the dataset root's images.

# %%
fl.prediction.confusion_table(P).set_index(["net", "degradation", "threshold"]).round(3)

# %% [markdown]
# ## FAIG against the other rankings, the references and a one-line statistic
# At the set's strengths (single-degradation inputs). Every F_D predictor uses the same per-input F_x;
# the classical statistic uses no network (its row names it). `acc_paper` only applies to overlap
# scores with a paper threshold; `acc_calibrated`: the threshold calibrated on the dataset root's images.

# %%
compare = fl.prediction.predictor_table(P)
compare.set_index(["net", "degradation", "predictor", "fx"]).round(3)

# %% [markdown]
# ## Mixed inputs: two degradations at once — does it say yes to both?

# %%
mixed_table = fl.prediction.mixed_table(P)
print(fl.prediction.describe_mixed(P))
mixed_table.set_index(["net", "mixed", "thresholds"]).round(3)

# %% [markdown]
# ## How results depend on k
# The same attributions, F_D and F_x cut at other sizes (thresholds recalibrated for each k).

# %%
by_k = fl.prediction.k_table(P, percents)
fig = fl.viz.plot_prediction_predictors(compare, by_k, top_percent)
lab.savefig(fig, "05_predictors.png")
by_k.pivot_table(index=["net", "percent"], columns="degradation", values=["auc", "acc_paper", "acc_calibrated"],
                 sort=False).round(3)

# %% [markdown]
# ## Claims
# What the prediction does on these pairs is reported, not asserted (a ✗ is a finding). The
# decisions are judged at the set's strengths: clean inputs and each degradation at the strength
# F_D is found at (printed below), single degradations.

# %%
for name in nets:
    print(f"{name}: judged on clean,", ", ".join(fl.degradation(d).full_name for d in lab.pairs[name].degradations),
          "inputs")

# %%
# NBVAL_CHECK_OUTPUT
fl.prediction.prediction_claims(P, accuracy_bar).show()
