# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
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
dataset_root = "../data/datasets/embedded"  # GTmod12/, Blur2_LRbicx2/, LRbicx2_noise0.1/, Linear_LRbicx2/
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
methods = ["faig", "ig", "abs_filter_change", "random"]
n_steps = 16  # quadrature nodes for FAIG and IG (the original: 100)
quadrature = "riemann_middle"  # the original: "riemann_left" with 100 steps
device = None  # e.g. "cuda"
top_percent = 1.0  # size of the "discovered" filter set
reuse_saved = False  # reuse rankings saved in results_dir for the same checkpoints and settings
check_net = "srresnet"  # network used for the reference check and the convergence study
check_crop = 32  # LR centre crop (pixels) for these two checks, which evaluate the network many times
reference_steps = 100  # left-Riemann steps of the faithful original loop in the reference check
convergence_images = 2
convergence_nodes = [4, 8, 16, 32]

# %% [markdown]
# # 01 — Ranking filters for blur and for noise
#
# A one-branch blind SR network removes blur **and** noise with one set of weights. The
# **baseline** θ̄ was trained on clean ×2 downsampling only; the **target** θ is θ̄ fine-tuned on
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

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from faig_helpers import plots
from faig_helpers.attribution import FAIG, convergence_table
from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import load_dataset
from faig_helpers.evaluation import psnr_table
from faig_helpers.filters import FilterIndex
from faig_helpers.reference import original_faig_scores
from faig_helpers.workflow import rank_all

torch.set_num_threads(min(2, torch.get_num_threads()))
data = load_dataset(dataset_root)
models = {net: load_pair(*paths) for net, paths in pairs.items()}
index = {net: FilterIndex.from_state_dict(t.state_dict()) for net, (_, t) in models.items()}
print(f"{len(data)} evaluation images:", ", ".join(data.names))

# %% [markdown]
# First, the pairs really differ in function: the target restores blurry and noisy inputs far better
# than the baseline (mean PSNR in dB on the held-out images).

# %%
psnr = pd.concat({net: psnr_table({"baseline θ̄": b, "target θ": t}, data) for net, (b, t) in models.items()})
psnr.round(2)

# %%
for net in models:
    gain = psnr.loc[(net, "target θ")] - psnr.loc[(net, "baseline θ̄")]
    assert gain["blurry"] > 1.0 and gain["noisy"] > 2.0, (net, gain)

# %% [markdown]
# ## Rank every filter with the four methods
# One call per network ranks with all methods and saves the rankings in the original layout,
# `results/neuron-search/{net}/{dataset}/{method}/{blur,noise}_index.txt` (most important first), with
# the raw scores beside them (`*_score.npy`).

# %%
ranked, seconds = {}, {}
for net, paths in pairs.items():
    t0 = time.perf_counter()
    ranked[net] = rank_all(net, *paths, data, dataset_name, results_dir, methods, n_steps, quadrature,
                           device=device, reuse=reuse_saved)
    seconds[net] = time.perf_counter() - t0
k = {net: max(1, int(len(fi) * top_percent / 100)) for net, fi in index.items()}
pd.DataFrame({"filters": {n: len(fi) for n, fi in index.items()}, f"top {top_percent}%": k,
              "ranking time (s)": {n: round(s, 1) for n, s in seconds.items()}})

# %% [markdown]
# Sanity checks: every ranking is a permutation of all filters, and FAIG's blur score is exactly the
# negative of its noise score (one computation, two rankings).

# %%
for net, r in ranked.items():
    for method, rk in r.items():
        for deg in ("blur", "noise"):
            assert np.array_equal(np.sort(rk[deg]), np.arange(len(index[net]))), (net, method, deg)
    if "faig" in r.scores:
        s = r.scores["faig"]
        assert np.array_equal(s.blur, -s.noise)
        print(f"{net}: FAIG completeness delta (relative, per image × degradation): "
              f"max |δ| = {np.abs(s.delta).max():.1e}")
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
b_path, t_path = pairs[check_net]
t0 = time.perf_counter()
orig_blur, orig_noise = original_faig_scores(b_path, t_path, one, reference_steps)
t_orig = time.perf_counter() - t0
t0 = time.perf_counter()
ours = FAIG(*models[check_net], device=device).attribute(one, reference_steps, "riemann_left", progress=False)
t_ours = time.perf_counter() - t0
kk = k[check_net]
same_top = set(ours.blur_index[:kk]) == set(np.argsort(orig_blur)[::-1][:kk]) and \
    set(ours.noise_index[:kk]) == set(np.argsort(orig_noise)[::-1][:kk])
rel_err = np.abs(ours.blur - orig_blur).max() / np.abs(orig_blur).max()
print(f"original loop {t_orig:.1f} s, ours {t_ours:.1f} s ({t_orig / t_ours:.1f}x); max relative score error {rel_err:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
print("same top-1% blur and noise sets as the original loop:", same_top)

# %%
assert same_top and rel_err < 1e-3

# %% [markdown]
# ## Choosing the quadrature
# How many network evaluations does the integral need? Two measurements against a 64-node
# Gauss–Legendre reference, on centre crops of two images: the **completeness delta** — the signed
# per-weight attributions of an image must sum to L(θ̄, x) − L(θ, x), because they are a path
# integral of the gradient, so |Σ G⊙Δθ − ΔL| / |ΔL| measures the quadrature error — and the top-1%
# **Jaccard** overlap of the blur ranking with the reference's.

# %%
two = data.subset(convergence_images, crop=check_crop)
conv = convergence_table(FAIG(*models[check_net], device=device), two,
                         ["riemann_left", "riemann_middle", "riemann_trapezoid", "gausslegendre"],
                         convergence_nodes)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plots.plot_convergence(conv, axes)
fig.suptitle(f"FAIG quadrature convergence ({check_net}, centre crops of {len(two)} images)")
plots.savefig(fig, "01_quadrature_convergence.png", figures_dir)
conv.pivot(index="nodes", columns="rule", values="abs_delta").map(lambda v: f"{v:.1e}")

# %% [markdown]
# The loss along the path is only piecewise smooth (ReLU kinks) and, for pairs whose target moved far
# from the baseline, strongly curved, so no rule converges spectrally — Gauss–Legendre included.
# The left sum of the original is first order and the slowest; the symmetric rules are close to
# each other. On all eight full-size images (`benchmarks/bench_faig.py`, table in the README) the
# **midpoint rule with 16 nodes** reproduced the reference's top-1% sets at least as well as the
# original 100-step left sum, at 16 instead of 2 × 100 network evaluations per image and input:
# it is the default. For a more accurate integral (completeness delta ≈ 0.4% instead of ≈ 1% for
# the original), use Gauss–Legendre with 24 nodes.

# %%
def at(rule, n):
    return conv[(conv.rule == rule) & (conv.nodes == n)].iloc[0]


n_max = max(convergence_nodes)
assert at("riemann_left", n_max).abs_delta > at(quadrature, n_max).abs_delta, conv  # left converges slowest
assert at(quadrature, n_steps).jaccard_top1 >= 0.9, conv

# %% [markdown]
# ## Where are the top filters, and do the methods agree?

# %%
fig, axes = plt.subplots(len(pairs), 1, figsize=(11, 3.6 * len(pairs)))
for ax, net in zip(np.atleast_1d(axes), pairs):
    plots.plot_top_filters_per_layer(index[net], ranked[net]["faig"], k[net],
                                     f"{net}: FAIG top-{top_percent:g}% filters per layer", ax)
fig.tight_layout()
plots.savefig(fig, "01_top_filters_per_layer.png", figures_dir)

# %%
fig, axes = plt.subplots(1, len(pairs), figsize=(7.5 * len(pairs), 6.5))
jac = {}
for ax, net in zip(np.atleast_1d(axes), pairs):
    sets = {f"{plots.METHOD_LABELS[m]} {d}": ranked[net][m][d][:k[net]] for m in methods for d in ("blur", "noise")}
    jac[net] = plots.jaccard_matrix(sets)
    plots.plot_overlap_heatmap(jac[net], f"{net}: overlap of top-{top_percent:g}% sets", ax)
fig.tight_layout()
plots.savefig(fig, "01_method_overlap.png", figures_dir)

# %% [markdown]
# FAIG's blur and noise sets are disjoint by construction (opposite ends of one score). IG and |Δθ|
# pick largely different filters: IG favours filters with large gradients whatever the degradation,
# |Δθ| the filters that changed most during fine-tuning, for whichever function.

# %%
for net in pairs:
    assert jac[net].loc["FAIG blur", "FAIG noise"] == 0.0
    assert jac[net].loc["|Δθ| blur", "|Δθ| noise"] == 1.0

# %%
if all("faig" in ranked[n].scores for n in pairs):
    fig, axes = plt.subplots(1, len(pairs), figsize=(6 * len(pairs), 3.4))
    for ax, net in zip(np.atleast_1d(axes), pairs):
        plots.plot_score_distribution(ranked[net].scores["faig"].blur, k[net], f"{net}: FAIG scores", ax)
    fig.tight_layout()
    plots.savefig(fig, "01_score_distribution.png", figures_dir)

# %% [markdown]
# The scores are heavy-tailed on both sides: a few filters dominate each degradation, which is what
# makes a 1% set meaningful. Notebook 02 tests that claim by substituting them.
