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
net = None  # the pair single-pair views show (None: the first of `pairs`)
method = "faig"  # whose sets are mapped
top_percent = 1.0
n_permutations = 10_000

# %% [markdown]
# # 03 — Where do the discovered filters live?
#
# The paper reports that in SRResNet the deblurring filters sit more in the **back** of the network
# while denoising filters spread more **evenly**. We map the top-1% FAIG filters of every pair, one
# colour per degradation (x: conv layer in network order; y: position of the filter inside its layer,
# normalised to [0, 1) so layers of different sizes line up), count how each set splits over the
# layers, and test the claim with a number: the **mean normalised depth** of each set (0 = first conv,
# 1 = last), against random sets of the same size and against each other (permutation tests).

# %%
import matplotlib.pyplot as plt
import pandas as pd

import faig_helpers as fl

fl.viz.use_style()
params = fl.Params.from_namespace(globals(), methods=[method])
lab = fl.setup(params)
sets = {n: {d: lab.rankings[n][method].top(d, top_percent) for d in p.degradations} for n, p in lab.pairs.items()}

# %% [markdown]
# ## The map
# One column per conv layer (network order); each discovered filter is a tick at its position inside
# the layer, one colour per degradation's set, side by side in each column.

# %%
layers = max(len(p.index.names) for p in lab.pairs.values())
fig, axes = plt.subplots(len(lab.pairs), 1, figsize=(max(8, 0.32 * layers + 4), 3.8 * len(lab.pairs)), squeeze=False)
for ax, (n, p) in zip(axes[:, 0], lab.pairs.items()):
    fl.viz.plot_filter_map(p.index, sets[n], f"{n}: top-{top_percent:g}% {fl.viz.method_label(method)} filters", ax)
fig.tight_layout()
lab.savefig(fig, "03_filter_map.png")

# %% [markdown]
# ## Per-layer shares
# Bars: the percentage of each set found in each layer. Grey: the layer's share of *all* filters,
# i.e. what a random set would show. Bars above grey mean the set is concentrated in that layer.

# %%
fig, axes = plt.subplots(len(lab.pairs), 1, figsize=(11, 3.4 * len(lab.pairs)), squeeze=False)
for ax, (n, p) in zip(axes[:, 0], lab.pairs.items()):
    fl.viz.plot_layer_shares(p.index, fl.distribution.layer_shares(p.index, sets[n]),
                             f"{n}: where each top-{top_percent:g}% set lies", ax)
fig.tight_layout()
lab.savefig(fig, "03_layer_shares.png")

# %% [markdown]
# ## Testing the claim
# `p (deeper than random)`: the fraction of random same-size filter sets at least as deep as the set.
# Between two sets, labels are shuffled between them. `depth s.d.`: standard deviation of the
# normalised depth (higher = spread over more of the network).

# %%
tests = {n: fl.distribution.depth_test(p.index, sets[n], n_permutations) for n, p in lab.pairs.items()}
pd.concat({n: t.table() for n, t in tests.items()}).round(4)

# %% [markdown]
# The paper's claim was made for a full-size SRResNet trained on DIV2K; what a given pair shows is
# reported, not assumed: per set, whether it sits deeper than random sets; for blur and noise, the
# paper's two claims (deblur deeper than denoise, denoise spread more evenly).

# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims()
for n, t in tests.items():
    for d in t.depth:
        f = fl.degradation(d).function
        claims.add(f"{f} filters sit deeper than random sets (p < 0.05)", t.p_deeper_than_random[d] < 0.05,
                   f"{t.depth[d]:.2f} vs {t.random_depth:.2f}, p = {t.p_deeper_than_random[d]:.3f}",
                   f"the {f} set is not concentrated in the back of this network", subject=n)
    if {"blur", "noise"} <= set(t.depth):
        p_bn = t.p_deeper["blur", "noise"]
        claims.add("deblur filters sit deeper than denoise filters (p < 0.05)", p_bn < 0.05,
                   f"mean depth {t.depth['blur']:.2f} vs {t.depth['noise']:.2f}, p = {p_bn:.3f}",
                   "the paper's observation does not hold for this pair" if t.depth["blur"] <= t.depth["noise"]
                   else "in the paper's direction, but not significant", subject=n)
        claims.add("denoise filters spread more evenly than deblur filters", t.spread["noise"] > t.spread["blur"],
                   f"depth s.d. {t.spread['noise']:.2f} vs {t.spread['blur']:.2f}",
                   "the denoise set is the more concentrated one here", subject=n)
claims.show()
