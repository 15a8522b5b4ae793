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
# Parameters (papermill: `papermill 01_rankings.ipynb out.ipynb -p dataset_root /my/Set14 ...`)
pairs = {  # network name -> (baseline θ̄ checkpoint, target θ checkpoint), BasicSR format
    "srresnet": ("../data/models/srresnet_x2_baseline.pth", "../data/models/srresnet_x2_target.pth"),
    "srcnn_style": ("../data/models/srcnn_style_x2_baseline.pth", "../data/models/srcnn_style_x2_target.pth"),
}
net = None  # network for the reference check and the convergence study (None: the first of `pairs`)
dataset_root = "../data/datasets/embedded"  # GTmod12/, Blur2_LRbicx2/, LRbicx2_noise0.1/, Linear_LRbicx2/
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
methods = ["faig", "ig", "abs_filter_change", "random"]
n_steps = None  # quadrature nodes for FAIG and IG; for "adaptive" the most it may use (None: the library default; the original: 100)
quadrature = None  # quadrature rule (None: the library default, "adaptive"; the original: "riemann_left")
device = None  # e.g. "cuda"
top_percent = 1.0  # size of the "discovered" filter set
reuse_saved = False  # reuse rankings saved in results_dir for the same checkpoints, images and settings
check_crop = 32  # LR centre crop (pixels) for the checks that evaluate the network many times
reference_steps = 100  # left-Riemann steps of the faithful original loop in the reference check
convergence_images = 2
convergence_nodes = [4, 8, 16, 32]
convergence_reference = 128  # midpoint-rule nodes of the reference integral (benchmarks/: 512, checked against 256)
bootstrap_samples = 500

# %% [markdown]
# # 01 — Ranking filters for blur and for noise
#
# A one-branch blind SR network removes blur **and** noise with one set of weights. The
# **baseline** θ̄ was trained on clean downsampling only; the **target** θ is θ̄ fine-tuned on
# blurry and noisy inputs. Which of its filters learned *deblurring*, which *denoising*?
#
# **FAIG** (Filter Attribution based on Integral Gradient) integrates the gradient of the
# restoration loss along the straight path in *parameter* space from θ to θ̄:
#
# $$\theta(\alpha) = \alpha\,\bar\theta + (1-\alpha)\,\theta, \qquad
#   L(\theta, x) = \sum \big(f_\theta(x) - y\big)^2,$$
#
# $$G_d = \int_0^1 \nabla_\theta L\big(\theta(\alpha), x_d\big)\, d\alpha
#   \approx \sum_k w_k\, \nabla_\theta L\big(\theta(\alpha_k), x_d\big),$$
#
# $$A_d(\text{filter}) = \sum_{3\times 3} \big| G_d \odot (\bar\theta - \theta) \big|
#   \quad\text{(per image)}, \qquad
#   \text{blur score} = \operatorname{mean}_{\text{images}}\big(A_\text{blur} - A_\text{noise}\big) = -\,\text{noise score}.$$
#
# A filter scores high for blur when moving it from θ̄ to θ changes the loss on *blurry* inputs much
# more than on *noisy* ones. Both rankings come from **one** computation (the original code ran it
# twice). We compare with three baselines of the paper: **IG** (integrated gradients along the
# *input* path from the clean to the degraded image, target model only), **|Δθ|** (relative filter
# change Σ|θ−θ̄| / Σ|θ̄|, the same order for both degradations) and **random**.
#
# What this notebook finds about the models is printed as **claims tables** (✓/✗ with the measured
# values); only properties that hold for any pair are asserted.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from faig_helpers import plots
from faig_helpers.attribution import ADAPTIVE_DELTA, DEFAULT_QUADRATURE, DEFAULT_STEPS, FAIG, top_jaccard, top_sets_agree
from faig_helpers.checkpoint import load_pair
from faig_helpers.claims import Claims
from faig_helpers.confidence import agreement_by_images, bootstrap_jaccard, summarise
from faig_helpers.convergence import convergence_table
from faig_helpers.degradations import load_dataset
from faig_helpers.evaluation import psnr_table
from faig_helpers.filters import FilterIndex, top_count
from faig_helpers.io_utils import output_dirs
from faig_helpers.rankings import rank_all
from faig_helpers.reference import original_faig_scores

plots.use_style()
results_dir, figures_dir = output_dirs(results_dir, figures_dir)
n_steps = DEFAULT_STEPS if n_steps is None else n_steps
quadrature = DEFAULT_QUADRATURE if quadrature is None else quadrature
net = next(iter(pairs)) if net is None else net
data = load_dataset(dataset_root)
models = {name: load_pair(*paths) for name, paths in pairs.items()}
index = {name: FilterIndex.from_state_dict(t.state_dict()) for name, (_, t) in models.items()}
print(f"{len(data)} evaluation images (×{data.scale}):", ", ".join(data.names))
print(f"FAIG and IG quadrature: {quadrature}, "
      + (f"refined until the completeness delta is ≤ {ADAPTIVE_DELTA} (at most {n_steps} nodes)"
         if quadrature == "adaptive" else f"{n_steps} nodes"))

# %% [markdown]
# First: do the pairs really differ in function? Mean PSNR (dB) of both models on the held-out images.

# %%
psnr = pd.concat({name: psnr_table({"baseline θ̄": b, "target θ": t}, data) for name, (b, t) in models.items()})
psnr.round(2)

# %%
# NBVAL_CHECK_OUTPUT
claims = Claims()
for name in models:
    gain = psnr.loc[(name, "target θ")] - psnr.loc[(name, "baseline θ̄")]
    for inp, floor in (("blurry", 1.5), ("noisy", 3.0)):
        claims.add(f"target restores {inp} inputs better (gain ≥ +{floor} dB)", gain[inp] >= floor,
                   f"{gain[inp]:+.2f} dB", f"little {inp[:-1]}-specific function to attribute: expect weaker "
                   "separation in notebook 02", subject=name)
    claims.add("target keeps clean quality (≥ −0.3 dB)", gain["clean"] >= -0.3, f"{gain['clean']:+.2f} dB",
               "the fine-tune also changed the clean mapping, and FAIG attributes that change too", subject=name)
claims.show()

# %% [markdown]
# ## Rank every filter with the four methods
# One call per network ranks with all methods and saves the rankings in the original layout,
# `results/neuron-search/{net}/{dataset}/{method}/{blur,noise}_index.txt` (most important first), with
# the raw and per-image scores beside them.

# %%
ranked, seconds = {}, {}
for name, (baseline, target) in models.items():
    t0 = time.perf_counter()
    ranked[name] = rank_all(baseline, target, data, results=results_dir, net=name, dataset=dataset_name,
                            methods=methods, n_steps=n_steps, quadrature=quadrature, device=device,
                            reuse=reuse_saved)
    seconds[name] = time.perf_counter() - t0
n_filters = {name: len(fi) for name, fi in index.items()}
k = {name: top_count(n, top_percent) for name, n in n_filters.items()}
nodes = {name: np.mean(r["faig"].info["nodes"]) if "faig" in r and r["faig"].info.get("nodes") else np.nan
         for name, r in ranked.items()}
pd.DataFrame({"filters": n_filters, f"top {top_percent:g}%": k, "FAIG nodes per image (mean)": nodes,
              "ranking time (s)": {n: round(s, 1) for n, s in seconds.items()}})

# %% [markdown]
# Invariants, true for any pair: every ranking is a permutation of all filters, FAIG's blur score is
# exactly the negative of its noise score (one computation, two rankings), and its completeness
# delta — the signed attributions must sum to L(θ̄, x) − L(θ, x) — is finite.

# %%
for name, r in ranked.items():
    for method, s in r.items():
        for deg in ("blur", "noise"):
            assert np.array_equal(np.sort(s.ranking(deg)), np.arange(n_filters[name])), (name, method, deg)
    if "faig" in r:
        assert np.array_equal(r["faig"].blur, -r["faig"].noise)
        if r["faig"].delta is not None:
            assert np.isfinite(r["faig"].delta).all()
            print(f"{name}: FAIG completeness delta (relative, per image × input): "
                  f"max |δ| = {np.abs(r['faig'].delta).max():.1e}")
print("all rankings are permutations of all filters")

# %% [markdown]
# ## Faithful to the original algorithm
# The original FAIG loop rebuilds the network at every step and runs the whole computation twice.
# A faithful re-implementation of it (`faig_helpers.reference`) and our FAIG with the original
# quadrature (left Riemann sum, α = k/N) must give the same ranking. Checked here with the original
# 100 steps on a centre crop of one image (to keep the notebook fast); the test suite checks more
# images and both families, and `benchmarks/bench_faig.py` all images at full size.

# %%
one = data.subset(1, crop=check_crop)
b_path, t_path = pairs[net]
t0 = time.perf_counter()
orig_blur, orig_noise = original_faig_scores(b_path, t_path, one, reference_steps)
t_orig = time.perf_counter() - t0
t0 = time.perf_counter()
a = FAIG(*models[net], device=device).attribute_inputs([one.blur[0], one.noise[0]], one.gt[0], reference_steps,
                                                       "riemann_left")
t_ours = time.perf_counter() - t0
ours = {"blur": a["A_blur"] - a["A_noise"], "noise": a["A_noise"] - a["A_blur"]}
# float32 rounding is relative to the attributions A_blur, A_noise whose difference the score is
scale = (a["A_blur"] + a["A_noise"]).max()
rel_err = np.abs(ours["blur"] - orig_blur).max() / scale
same_top = all(top_sets_agree(ours[d], orig, top_percent, rtol=1e-3 * scale / np.abs(orig).max())
               for d, orig in (("blur", orig_blur), ("noise", orig_noise)))
print(f"{net}: original loop {t_orig:.1f} s, ours {t_ours:.1f} s ({t_orig / t_ours:.1f}x); "
      f"max score error {rel_err:.1e} of the largest attribution")

# %%
# NBVAL_CHECK_OUTPUT
print(f"same top-{top_percent:g}% blur and noise sets as the original loop (up to float near-ties):", same_top)

# %%
assert same_top and rel_err < 1e-3

# %% [markdown]
# ## Is the integral converged?
# Every rule and node count against a fine composite reference (midpoint rule, many nodes), on
# centre crops of a few images: the **completeness delta** |Σ G⊙Δθ − ΔL| / |ΔL| measures the
# quadrature error of the integral itself, the top-1% **Jaccard** with the reference what that error
# does to the ranking. `benchmarks/bench_faig.py` runs the same study on whole images and on
# full-size networks of both families (README, "Speed and accuracy of the integral"). No fixed rule
# was safe on all of them, hence the default `adaptive` rule: a nested trapezoid rule refined per
# image until the completeness delta of both inputs is small (its row shows the mean nodes used).

# %%
few = data.subset(convergence_images, crop=check_crop)
faig = FAIG(*models[net], device=device)
reference = faig.attribute(few, n_steps=convergence_reference, quadrature="riemann_middle", progress=False)
conv = convergence_table(faig, few, ["riemann_left", "riemann_middle", "riemann_trapezoid", "gausslegendre", "adaptive"],
                         convergence_nodes, reference)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plots.plot_convergence(conv, axes)
fig.suptitle(f"FAIG quadrature convergence ({net}, centre crops of {len(few)} images; "
             f"reference: midpoint rule × {convergence_reference})")
plots.savefig(fig, "01_quadrature_convergence.png", figures_dir)
conv.round({"abs_delta": 4, "jaccard_blur": 3, "jaccard_noise": 3, "nodes": 1}).pivot(
    index="rule", columns="nodes", values="jaccard_blur")

# %%
best = conv.sort_values(["jaccard_blur", "abs_delta"], ascending=[False, True]).iloc[0]
n_max = max(convergence_nodes)
slowest = conv[conv.nodes == n_max].sort_values("abs_delta").iloc[-1]
print(f"Best agreement with the reference: {best.rule} with {best.nodes} nodes (top-1% Jaccard "
      f"{best.jaccard_blur:.3f}, completeness delta {best.abs_delta:.1e}). At {n_max} nodes the largest "
      f"completeness delta is {slowest.rule}'s ({slowest.abs_delta:.1e}).")

# %% [markdown]
# ## How sure is a ranking?
# The FAIG score is a mean of per-image scores, so rankings from other samples of the images cost no
# network pass. Left: the top-1% set from m images against the one from all images ("how many images
# do I need?"); right: two bootstrap resamples of the images against each other, and centre crops
# (`check_crop` LR pixels, as used by the checks above) against whole images.

# %%
by_images, boot, crops = {}, {}, {}
for name, r in ranked.items():
    if "faig" not in r or not r["faig"].per_image:
        continue
    per = r["faig"].per_image["blur"]
    by_images[name] = agreement_by_images(per, top_percent, seed=0)
    boot[name] = bootstrap_jaccard(per, top_percent, bootstrap_samples, seed=0)
    cropped = FAIG(*models[name], device=device).attribute(data.subset(crop=check_crop), n_steps=n_steps,
                                                           quadrature=quadrature, progress=False)
    crops[name] = top_jaccard(cropped.blur, r["faig"].blur, top_percent)
if boot:
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
    plots.plot_ranking_confidence(by_images, boot, crops, top_percent, axes)
    fig.suptitle(f"FAIG top-{top_percent:g}% deblur sets under resampling of the {len(data)} evaluation images")
    fig.tight_layout()
    plots.savefig(fig, "01_ranking_confidence.png", figures_dir)

# %%
# NBVAL_CHECK_OUTPUT
confidence = Claims()
for name in boot:
    b = summarise(boot[name])
    half = by_images[name][by_images[name].images == max(1, len(data) // 2)].iloc[0]
    confidence.add("bootstrap resamples agree (mean top-1% Jaccard ≥ 0.7)", b["mean"] >= 0.7,
                   f"mean {b['mean']:.2f}, 90% interval [{b['q05']:.2f}, {b['q95']:.2f}]",
                   "the set depends on which images were drawn: use more evaluation images", subject=name)
    confidence.add(f"half the images ({int(half.images)}) recover the set (Jaccard ≥ 0.7)", half["mean"] >= 0.7,
                   f"mean {half['mean']:.2f}", "rankings from few images are unreliable for this pair", subject=name)
    confidence.add(f"{check_crop}-pixel centre crops give the same set (Jaccard ≥ 0.7)", crops[name] >= 0.7,
                   f"{crops[name]:.2f}", "checks on crops speak for crops only", subject=name)
confidence.show()

# %% [markdown]
# ## Where are the top filters, and do the methods agree?

# %%
fig, axes = plt.subplots(len(pairs), 1, figsize=(11, 3.6 * len(pairs)), squeeze=False)
for ax, name in zip(axes[:, 0], pairs):
    if "faig" in ranked[name]:
        s = ranked[name]["faig"]
        plots.plot_top_filters_per_layer(index[name], {d: s.top(d, top_percent) for d in ("blur", "noise")},
                                         f"{name}: FAIG top-{top_percent:g}% filters per layer", ax)
fig.tight_layout()
plots.savefig(fig, "01_top_filters_per_layer.png", figures_dir)

# %%
fig, axes = plt.subplots(1, len(pairs), figsize=(7.5 * len(pairs), 6.5), squeeze=False)
jac = {}
for ax, name in zip(axes[0], pairs):
    sets = {f"{plots.METHOD_LABELS[m]} {d}": ranked[name][m].top(d, top_percent) for m in methods for d in ("blur", "noise")}
    jac[name] = plots.jaccard_matrix(sets)
    plots.plot_overlap_heatmap(jac[name], f"{name}: overlap of top-{top_percent:g}% sets", ax)
fig.tight_layout()
plots.savefig(fig, "01_method_overlap.png", figures_dir)

# %% [markdown]
# FAIG's blur and noise sets are disjoint by construction (opposite ends of one score), and |Δθ| has
# one order for both degradations; both are asserted. How much IG and |Δθ| agree with FAIG is a
# property of the pair:

# %%
for name in pairs:
    if "faig" in methods:
        assert jac[name].loc["FAIG blur", "FAIG noise"] == 0.0
    if "abs_filter_change" in methods:
        assert jac[name].loc["|Δθ| blur", "|Δθ| noise"] == 1.0
    others = [m for m in methods if m not in ("faig", "random")]
    if "faig" in methods and others:
        print(f"{name}: Jaccard with FAIG's sets — " + "; ".join(
            f"{plots.METHOD_LABELS[m]} {d} {jac[name].loc[f'FAIG {d}', f'{plots.METHOD_LABELS[m]} {d}']:.2f}"
            for m in others for d in ("blur", "noise")))

# %%
if all("faig" in ranked[n] for n in pairs):
    fig, axes = plt.subplots(1, len(pairs), figsize=(6 * len(pairs), 3.4), squeeze=False)
    for ax, name in zip(axes[0], pairs):
        plots.plot_score_distribution(ranked[name]["faig"].blur, max(1, k[name]), f"{name}: FAIG scores", ax)
    fig.tight_layout()
    plots.savefig(fig, "01_score_distribution.png", figures_dir)
    for name in pairs:
        s = np.sort(np.abs(ranked[name]["faig"].blur))[::-1]
        print(f"{name}: the top {top_percent:g}% of filters carry {100 * s[:k[name]].sum() / s.sum():.1f}% of the "
              f"total |score| (a uniform spread would give {top_percent:g}%)")
