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
pairs = {  # network name -> (baseline θ̄ checkpoint, target θ checkpoint), BasicSR format
    "srresnet": ("../data/models/srresnet_x2_baseline.pth", "../data/models/srresnet_x2_target.pth"),
    "srcnn_style": ("../data/models/srcnn_style_x2_baseline.pth", "../data/models/srcnn_style_x2_target.pth"),
}
dataset_root = "../data/datasets/embedded"
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
method = "faig"
n_steps = 16  # used only if the rankings of notebook 01 are not in results_dir
quadrature = "riemann_middle"
top_percent = 1.0
n_permutations = 10_000

# %% [markdown]
# # 03 — Where do the discovered filters live?
#
# The paper reports that in SRResNet the deblurring filters sit more in the **back** of the network
# while denoising filters spread more **evenly**. We map the top-1% FAIG filters of both families
# (x: conv layer in network order; y: position of the filter inside its layer, normalised to [0, 1)
# so layers of different sizes line up), count how each set splits over the layers, and test the
# claim with a number: the **mean normalised depth** of each set (0 = first conv, 1 = last), against
# random sets of the same size (permutation test).

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from faig_helpers import plots
from faig_helpers.checkpoint import load_state_dict
from faig_helpers.degradations import load_dataset
from faig_helpers.distribution import depth_test, layer_shares, positions
from faig_helpers.filters import FilterIndex
from faig_helpers.workflow import rank_all

data = load_dataset(dataset_root)
index = {net: FilterIndex.from_state_dict(load_state_dict(t)) for net, (_, t) in pairs.items()}
ranked = {net: rank_all(net, *paths, data, dataset_name, results_dir, [method], n_steps, quadrature,
                        progress=False)[method] for net, paths in pairs.items()}
k = {net: max(1, int(len(fi) * top_percent / 100)) for net, fi in index.items()}
sets = {net: {"blur": ranked[net]["blur"][:k[net]], "noise": ranked[net]["noise"][:k[net]]} for net in pairs}

# %% [markdown]
# ## The map

# %%
fig, axes = plt.subplots(1, len(pairs), figsize=(7 * len(pairs), 4.2), squeeze=False)
for ax, net in zip(axes[0], pairs):
    fi = index[net]
    for deg, marker in (("blur", "o"), ("noise", "x")):
        pos = positions(fi, sets[net][deg])
        jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(pos)) * (deg == "blur" or -1)
        ax.scatter(pos.layer + jitter, pos.position, s=12, marker=marker, color=plots.PALETTE[deg],
                   label=f"{'deblur' if deg == 'blur' else 'denoise'} filters", alpha=0.8)
    ax.set_xticks(range(len(fi.names)), plots.short_layer_names(fi), rotation=60)
    ax.set(xlabel="conv layer (network order)", ylabel="position within layer (normalised)",
           title=f"{net}: top-{top_percent:g}% {method.upper()} filters", ylim=(-0.02, 1.02))
    ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
plots.savefig(fig, "03_filter_map.png", figures_dir)

# %% [markdown]
# ## Per-layer shares
# Bars: the percentage of each set found in each layer. Grey: the layer's share of *all* filters,
# i.e. what a random set would show. Bars above grey mean the set is concentrated in that layer.

# %%
fig, axes = plt.subplots(len(pairs), 1, figsize=(11, 3.4 * len(pairs)), squeeze=False)
for ax, net in zip(axes[:, 0], pairs):
    fi = index[net]
    sh = layer_shares(fi, {"deblur": sets[net]["blur"], "denoise": sets[net]["noise"]})
    sh["layer name"] = [plots.short_layer_names(fi)[l] for l in sh.layer]
    sns.barplot(sh[sh.set != "all filters"], x="layer name", y="share", hue="set", ax=ax,
                palette={"deblur": plots.PALETTE["blur"], "denoise": plots.PALETTE["noise"]})
    allf = sh[sh.set == "all filters"]
    ax.scatter(range(len(allf)), allf.share, marker="_", s=300, color="0.3", label="all filters", zorder=3)
    ax.set(xlabel="conv layer (network order)", ylabel="% of the set", title=f"{net}: where each top-{top_percent:g}% set lies")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(fontsize=8)
fig.tight_layout()
plots.savefig(fig, "03_layer_shares.png", figures_dir)

# %% [markdown]
# ## Testing the claim
# `p (blur deeper than random)`: the fraction of random same-size filter sets at least as deep as
# the blur set. `p (blur deeper than noise)`: labels shuffled between the blur and noise sets.
# `spread`: standard deviation of the normalised depth (higher = spread over more of the network).

# %%
tests = {net: depth_test(index[net], sets[net]["blur"], sets[net]["noise"], n_permutations) for net in pairs}
summary = pd.DataFrame({net: vars(t) for net, t in tests.items()}).T
summary.round(4)

# %% [markdown]
# What our embedded models show is reported as measured; the paper's claim was made for
# full-size SRResNet on DIV2K, and tiny models trained for minutes need not reproduce it. The
# only thing asserted is what holds by construction of the statistics (valid depths and p-values),
# plus the finding printed below, which is checked so that a change in it is noticed.

# %%
for net, t in tests.items():
    assert 0 <= t.blur_depth <= 1 and 0 <= t.noise_depth <= 1
    assert 0 < t.p_blur_deeper_than_random <= 1 and 0 < t.p_blur_deeper_than_noise <= 1

# %%
# NBVAL_CHECK_OUTPUT
for net, t in tests.items():
    print(f"{net}: deblur filters deeper than denoise filters: {t.blur_depth > t.noise_depth}; "
          f"significant at 5%: {t.p_blur_deeper_than_noise < 0.05}")
