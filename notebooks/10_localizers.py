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
pairs = None  # name -> (baseline θ̄, target θ); None: the embedded SRResNet pair and the published Real-CUGAN pair
net = None  # the pair of the unit study (None: the last of `pairs`, the published one by default)
methods = "all"  # "all": every registered method (the paper's four and the localizers); or a list
n_steps = 8  # FAIG / IG quadrature nodes: a quick look (None: the library default)
quadrature = "gausslegendre"  # (None: the library default)
images = 4  # images used (None: all): the first `train_images` rank (and train the mask), the rest judge
crop = 48  # their LR centre crop (None: whole images)
train_images = 2
proportions = [1, 5]  # % of the filters substituted / grafted
mask_steps = 20  # Adam steps of the learned mask per degradation (its default: 60)
unit_lambda = 0.5  # λ of the "λ < 1" unit variant

# %% [markdown]
# # 10 — Necessary and sufficient: FAIG beside the localizers of model merging
#
# Substituting a set of the target's filters by the baseline's asks whether they are **necessary** (the
# paper's masking). The reverse — **grafting** the target's set into the baseline — asks whether they are
# **sufficient**: how much of the target's PSNR gain on D's inputs comes back. It is the paper's "re-train
# only the 1 %" experiment without the re-training, and how the model-merging field judges its own
# localizers of "the few parameters behind a skill":
#
# | method | what ranks a filter | from |
# |---|---|---|
# | FAIG, IG, \|Δθ\|, random | the paper's four | Wang et al. 2021 |
# | \|τ\| (TIES) | Σ_kernel \|θ − θ̄\|, not normalised (TIES-merging's trim) | Yadav et al. 2023 |
# | Fisher | Σ_kernel of the diagonal empirical Fisher on D's inputs at θ, times τ² | Matena & Raffel 2022 |
# | learned mask | logits s of θ̄ + σ(s) ⊙ τ, trained on D's inputs with a sparsity penalty | Localize-and-Stitch, 2024 |
#
# Per set: **necessity** = share of the target's gain on D's inputs the substitution loses, **sufficiency** =
# share the graft recovers, **specificity** = the substitution's difference on D's inputs over its largest on
# another's, the **colour shift** of both (8-bit levels), and the **seconds** each method took to rank.

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd

import faig_helpers as fl

fl.viz.use_style()
default = {"srresnet": fl.default_pairs()["srresnet"], "realcugan": fl.realcugan_pair()}
params = fl.Params.from_namespace(globals(), pairs=default)
lab = fl.setup(params.replace(net=params.net or list(params.pairs)[-1]), rank=False, images=images, crop=crop)
fl.METHODS["mask"].steps = mask_steps
split = {n: p.data.split(train_images) for n, p in lab.pairs.items()}
for n, (train, judge) in split.items():
    print(f"{n}: ranked (and the mask trained) on {', '.join(train.names)}; judged on {', '.join(judge.names)} — "
          "disjoint images")

# %% [markdown]
# ## Rank with every method, on the training images

# %%
rankings, seconds = {}, {}
for n, p in lab.pairs.items():
    rankings[n], seconds[n] = {}, {}
    for m in lab.methods:
        t0 = time.perf_counter()
        rankings[n].update(fl.rank_all(p.baseline, p.target, split[n][0], results=lab.results, net=n,
                                       dataset=f"{p.dataset_name}-train{train_images}", methods=[m],
                                       n_steps=lab.n_steps, quadrature=lab.quadrature, device=lab.device,
                                       reuse=False, progress=False))
        seconds[n][m] = time.perf_counter() - t0
pd.DataFrame(seconds).rename(index=fl.viz.method_label).round(2).rename_axis("seconds to rank")

# %% [markdown]
# ## Necessity, sufficiency, specificity, colour — on the held-out images

# %%
tables = {}
for n, p in lab.pairs.items():
    judge = split[n][1]
    sub = fl.compare(p.baseline, p.target, rankings[n], judge, proportions, progress=False, device=lab.device)
    grafted = fl.graft(p.baseline, p.target, rankings[n], judge, proportions, device=lab.device)
    tables[n] = fl.localizer_table(sub, grafted, seconds[n])
table = pd.concat(tables, names=["net"]).reset_index(level=0)
table.assign(method=table.method.map(fl.viz.method_label)).set_index(["net", "proportion", "set", "method"]).round(2)

# %%
fig, axes = plt.subplots(len(lab.pairs), len(proportions), figsize=(8.5 * len(proportions), 4.2 * len(lab.pairs)),
                         squeeze=False)
for row, (n, t) in zip(axes, tables.items()):
    for ax, p in zip(row, proportions):
        fl.viz.plot_localizers(t[t.proportion == p], f"{n}: top-{p:g}% sets (mean over degradations)", ax)
fig.tight_layout()
lab.savefig(fig, "10_localizers.png")

# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims()
higher = {"necessary": "necessity", "sufficient": "sufficiency", "specific": "specificity"}
for n, t in tables.items():
    for p in proportions:
        mean = t[t.proportion == p].replace([float("inf")], 1e3).groupby("method")[list(higher.values())].mean()
        for word, col in higher.items():
            if mean[col].isna().all():
                claims.add(f"{p:g}%: FAIG's sets are the most {word}", False, "not computable: no gain to share",
                           "the target gains too little on every input kind", subject=n)
                continue
            best = mean[col].drop("faig").idxmax()
            claims.add(f"{p:g}%: FAIG's sets are the most {word}", mean[col]["faig"] > mean[col][best],
                       f"FAIG {mean[col]['faig']:.3g} vs {fl.viz.method_label(best)} {mean[col][best]:.3g}",
                       f"{fl.viz.method_label(best)}'s sets are more {word} here", subject=n)
claims.show()

# %% [markdown]
# ## Colour and the unit of a filter
# Substituting single kernels of a network this far from its baseline shifts the output colour. On the
# pair `net`, for the degradation its target gains most on: the top-1% FAIG set as kernels substituted (the
# paper), kernels grafted into the baseline, whole output channels substituted (their kernels with their
# bias), and kernels at λ = `unit_lambda` — PSNR and colour shift to the target on every input kind.

# %%
p = lab.pair
judge = split[p.name][1]
gain = fl.quality_table({"b": p.baseline, "t": p.target}, judge, device=lab.device)
gain = gain.loc["t"] - gain.loc["b"]
D = fl.degradation(max(p.degradations, key=lambda e: gain[fl.degradation(e).input]))
units = fl.unit_variants(p.baseline, p.target, rankings[p.name]["faig"], judge, D.name, 1.0, unit_lambda,
                         device=lab.device)
units.pivot_table(index="unit", columns="input", values=["psnr", "colour_shift"], sort=False).round(2)

# %%
# NBVAL_CHECK_OUTPUT
colour = fl.Claims(p.name)
own = units[units.input == D.input].set_index("unit").colour_shift
paper = own.iloc[0]
colour.add(f"kernel substitution (the paper) keeps the colour of {D.input} outputs (≤ 2 levels)", paper <= 2,
           f"{paper:.1f} levels", "the 1% set carries the fine-tune's colour mapping too")
for unit, v in own.iloc[1:].items():
    keeps = v <= 2 < paper or v <= paper <= 2
    colour.add(f"{unit} keeps colour where kernel substitution does not (≤ 2 levels)", keeps,
               f"{v:.1f} vs {paper:.1f} levels", "this unit shifts colour as well")
colour.show()
