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
net = None  # the pair the ablations run on (None: the first of `pairs`)
percent = 1.0  # % of filters in every set (the paper: 1%)
# (a) gradient elimination
elimination_proportions = [1, 5]  # % substituted in the two masking tables
# (b) baseline choice: three FAIG runs, on the same images and rule
baseline_seed = 0  # seed of the random-init baseline
baseline_images = None  # evaluation images ranked on (None: all)
baseline_crop = 48  # LR centre crop they are ranked on (None: whole images — a real run)
baseline_quadrature = "gausslegendre"  # rule of the three runs (a real run: None, the library default)
baseline_steps = 4  # its nodes (the adaptive default uses up to 129 from a random or zero baseline)
example_image = 0  # the image of the qualitative figure
example_crop = 48  # its LR crop (None: whole image)
# (c) re-training only the top locations
retrain_degradation = None  # the degradation re-trained on (None: the first of the pair's set, e.g. blur)
retrain_iters = 100  # iterations per run, the same for every set (a real run: e.g. 20000; the paper's schedule)
retrain_batch = 4  # batch size (the embedded pairs were trained with 16)
retrain_patch = 32  # HR patch size (the embedded pairs: 64)
retrain_lr = 1e-3  # Adam learning rate (cosine schedule)
retrain_ema = 0.9  # EMA decay of the saved weights (short runs need a short average; the embedded pairs: 0.999)
retrain_seed = 0
retrain_threads = 1  # CPU threads of the runs (1: the same weights on any machine; None: PyTorch's setting, faster)
train_folder = None  # HR training photographs (None: the embedded default's data/images/train)

# %% [markdown]
# # 07 — The paper's ablations
#
# Three experiments of the paper that test FAIG's own design, on one pair (`net`):
#
# * **(a) Gradient elimination** (the castle figure). FAIG ranks the filters of degradation D by
#   score_D = mean over images of (A_D − mean_{D'≠D} A_{D'}): it *subtracts* the attribution the
#   other degradations' inputs give the same filter. Without that subtraction (score_D = mean A_D) a
#   filter that matters for every input ranks high for every D, and substituting the "deblur" set also
#   removes denoising.
# * **(b) The baseline** (the baboon figure). FAIG integrates from the clean-trained baseline θ̄.
#   A randomly initialised or an all-zero network of the same architecture is a path start that
#   knows nothing about images: the sets found from it, substituted by *its* weights, should break the
#   outputs instead of removing one function.
# * **(c) Re-training only the discovered locations.** From θ̄, train only the top-1% kernels of one
#   degradation's ranking on that degradation (every other weight and every bias frozen); the better
#   the locations, the more of the function they re-learn. Training every parameter with the same
#   budget is the upper bound. The paper's slide (blurry inputs): upper bound 29.20 dB, FAIG 28.05,
#   IG 26.47, |Δθ| 26.76, random 27.03; noisy inputs: upper bound 26.71, FAIG's denoise locations 25.79.
#
# **Budget.** On the embedded default this notebook runs in about a minute of CPU beyond the rankings
# (which it reuses from notebook 01 when they are in `results_dir`): (b) ranks on 48-pixel LR
# crops with a 4-node Gauss–Legendre rule, and (c) re-trains for only 100 iterations on small
# batches — a *short-budget* version of the paper's experiment, whose outcomes (not only their size)
# can change with a real budget. For a real run set `baseline_crop = None`,
# `baseline_quadrature = None` and `retrain_iters` in the thousands; checkpoints of (c) are kept
# under `results_dir/models/retrain/` and reused when nothing changed.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import faig_helpers as fl

fl.viz.use_style()
params = fl.Params.from_namespace(globals())
lab = fl.setup(params, rank=False)
baseline_crop, example_crop = lab.fit_crop(baseline_crop), lab.fit_crop(example_crop)  # ≥ each network's minimum
retrain_patch = lab.pair.scale * lab.fit_crop(retrain_patch // lab.pair.scale)  # HR: its LR too
lab.rank([lab.net], methods=list(dict.fromkeys(["faig", *lab.methods])), progress=False)
p = lab.pair
ranked = lab.rankings[p.name]
degs = p.degradations
p0 = percent
print(f"{p.name}: {len(p.index)} filters, {len(p.data)} evaluation images, degradations {degs}")

# %% [markdown]
# ## (a) Gradient elimination
# Both scorings come from the same per-image attributions A_D (`fl.FAIG(..., eliminate=False)` returns
# mean A_D; `fl.ablations.with_elimination` subtracts the others' per image, giving FAIG's own scores exactly);
# with the results folder's per-image cache they cost no new integral.

# %%
plain = fl.FAIG(p.baseline, p.target, device=lab.device, precision=lab.precision, eliminate=False).attribute(
    p.data, n_steps=lab.n_steps, quadrature=lab.quadrature, cache_dir=lab.layout.cache, progress=False)
sets_a = {"with elimination": fl.ablations.with_elimination(plain), "without elimination": plain}
table_a = fl.compare(p.baseline, p.target, sets_a, p.data, elimination_proportions, device=lab.device,
                     progress=False)
overlap = pd.DataFrame({k: {f"{d} vs {e}": fl.top_jaccard(s.score(d), s.score(e), p0)
                            for i, d in enumerate(degs) for e in degs[i + 1:]} for k, s in sets_a.items()})
print(f"top-{p0:g}% Jaccard overlap between the degradations' sets:")
print(overlap.round(3).to_string())
table_a.pivot_table(index=["masked", "input"], columns=["method", "proportion"], values="output_difference").round(3)

# %%
fig, axes = plt.subplots(1, len(degs), figsize=(6.5 * len(degs), 2.6), squeeze=False)
fl.viz.plot_substitution_table(table_a, elimination_proportions, f"{p.name}, FAIG", axes[0])
fig.tight_layout()
lab.savefig(fig, "07_elimination_table.png")

# %%
# NBVAL_CHECK_OUTPUT
claims_a = fl.Claims(p.name)
for q in elimination_proportions:
    for d in degs:
        D = fl.degradation(d)
        for e in degs:
            if e == d:
                continue
            E = fl.degradation(e)
            w, wo = (fl.table_value(table_a, m, d, e, q) for m in ("with elimination", "without elimination"))
            claims_a.add(f"(a) {q:g}% {D.function} set keeps {E.input} outputs better with elimination", w < wo,
                         f"{E.input} difference {fl.fmt(w)} with vs {fl.fmt(wo)} without",
                         "the subtraction does not make this set more specific on this pair")
claims_a.show()

# %% [markdown]
# ## (b) The choice of baseline
# Each baseline b (the trained θ̄, a random initialisation of the same architecture, all zeros) gives
# its own FAIG ranking; its top sets are then substituted by *b's* weights. Measured on every
# evaluation image: PSNR, the output difference to the target, the colour shift and the change of
# mean intensity (8-bit levels; negative = darker). *Separation* of a D-set is the share of the PSNR
# its substitution costs that falls on D's inputs: cost on D / (cost on D + mean cost on the others) —
# 1 when only D's function goes, ½ when every input suffers alike (above 1: the other inputs even gain).

# %%
bases = fl.ablations.baseline_choices(p.baseline, p.target, baseline_seed)
subset = p.data.subset(baseline_images, baseline_crop)
steps_b = lab.n_steps if baseline_quadrature is None else baseline_steps
rule_b = baseline_quadrature or lab.quadrature
choice = {b: fl.FAIG(m, p.target, device=lab.device, precision=lab.precision).attribute(
    subset, n_steps=steps_b, quadrature=rule_b, progress=False) for b, m in bases.items()}
quality = fl.ablations.substitution_quality(bases, p.target, choice, p.data, p0, device=lab.device)
target_psnr = fl.quality_table({"target": p.target}, p.data).loc["target"]
quality["psnr_lost"] = [target_psnr[i] - v for i, v in zip(quality.input, quality.psnr)]
print(f"ranked on {len(subset)} images, {subset.gt[0].shape[-1] // subset.scale} LR pixels wide, "
      f"{rule_b} × {steps_b}; top-{p0:g}% sets substituted, measured on all {len(p.data)} images")
quality.pivot_table(index="baseline", columns=["masked", "input"], sort=False,
                    values=["psnr", "output_difference", "colour_shift", "intensity_change"]).round(2)

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
fl.viz.plot_baseline_choice(quality, axes)
fig.tight_layout()
lab.savefig(fig, "07_baseline_choice_bars.png")

# %%
x_of = {d: fl.crop(p.data[d][example_image], fl.crop_box(p.data[d][example_image].shape, example_crop))
        for d in degs}
grid = {}
for b, m in {"target θ (nothing substituted)": None, **bases}.items():
    mod = fl.FilterModulator(m if m is not None else p.baseline, p.target, device=lab.device)
    row = {}
    for d in degs:
        for e in degs:
            label = f"{fl.degradation(d).function} set · {fl.degradation(e).input} input"
            row[label] = fl.to_image((mod.reset() if m is None else mod.substitute(choice[b].top(d, p0)))(x_of[e]))
    grid[b if m is None else f"{b} baseline"] = row
fig = fl.viz.plot_qualitative_grid(grid, f"{p.name}: top-{p0:g}% FAIG sets substituted by their own baseline "
                                   f"({p.data.names[example_image]})")
lab.savefig(fig, "07_baseline_choice.png")


# %%
def separation(b, d):
    """Share of the PSNR the D-set's substitution costs that is lost on D's inputs (NaN if it costs none)."""
    q = quality[(quality.baseline == b) & (quality.masked == d)]
    own, other = q[q.input_degradation == d].psnr_lost.item(), q[q.input_degradation != d].psnr_lost.mean()
    return own / (own + other) if own + other > 0 else np.nan


def mean_of(b, col):
    return quality[quality.baseline == b][col].mean()


# %%
# NBVAL_CHECK_OUTPUT
claims_b = fl.Claims(p.name)
others_b = [b for b in bases if b != "trained"]
for d in degs:
    D = fl.degradation(d)
    sep = {b: separation(b, d) for b in bases}
    claims_b.add(f"(b) the trained baseline's {D.function} set separates best", sep["trained"] > max(
        sep[b] for b in others_b), "share of the PSNR cost on " + D.input + " inputs: "
        + ", ".join(f"{b} {sep[b]:.2f}" for b in bases),
        "a random or zero path start finds a set that is as specific here")
for b in others_b:
    lost, lost_t = mean_of(b, "psnr_lost"), mean_of("trained", "psnr_lost")
    claims_b.add(f"(b) substituting the {b} baseline's filters damages the outputs more", lost > lost_t,
                 f"PSNR lost {lost:.2f} vs {lost_t:.2f} dB (trained); intensity {mean_of(b, 'intensity_change'):+.1f} "
                 f"vs {mean_of('trained', 'intensity_change'):+.1f} levels, colour shift "
                 f"{mean_of(b, 'colour_shift'):.1f} vs {mean_of('trained', 'colour_shift'):.1f}",
                 f"the {b} baseline's filters replace the target's without more harm on this pair")
claims_b.show()

# %% [markdown]
# ## (c) Re-training only the top locations
# From θ̄, one run per set of locations: the top-`percent`% kernels of each method's ranking for the
# re-trained degradation learn, on inputs all degraded by it; every other weight and every bias stays
# θ̄'s (`fl.train.train(..., trainable=masks)`). "all parameters" trains everything: the upper bound.
# Every run has the same budget and seed.

# %%
rd = fl.degradation(retrain_degradation or degs[0]).name
RD = fl.degradation(rd)
cfg = fl.train.TrainConfig(iters=retrain_iters, batch=retrain_batch, patch=retrain_patch, lr=retrain_lr,
                     ema_decay=retrain_ema, seed=retrain_seed)
locations = {f"{fl.viz.method_label(m)} locations": ranked[m].top(rd, p0) for m in ranked if rd in ranked[m].scores}
locations["all parameters (upper bound)"] = None
retrained = fl.ablations.retrain_locations(p.baseline, locations, rd, cfg,
                                 lab.layout.models / "retrain" / p.name / p.dataset_name / f"{rd}_{p0:g}pct",
                                 image_folder=train_folder, filter_index=p.index, progress=False,
                                 threads=retrain_threads)
table_c = fl.quality_table({"baseline θ̄ (not re-trained)": p.baseline, **retrained,
                            f"target θ ({' + '.join(degs)})": p.target}, p.data)
table_c = table_c[[RD.input] + [c for c in table_c.columns if c != RD.input]]
n_layers = max(len(p.index.names) - 1, 1)
depth = {k: float(np.mean(p.index.locate(v)[0]) / n_layers) for k, v in locations.items() if v is not None}
print(f"re-trained on {rd} only: {retrain_iters} iterations × batch {retrain_batch} × {retrain_patch}² HR patches, "
      f"lr {retrain_lr:g}; {len(locations[next(iter(locations))])} kernels learn in each masked run; "
      f"{table_c.attrs['metric']}")
print("mean depth of each set of locations (0 = first conv layer, 1 = last): "
      + ", ".join(f"{k.removesuffix(' locations')} {v:.2f}" for k, v in depth.items()))
table_c.round(2)

# %%
fig, ax = plt.subplots(figsize=(8, 3.8))
fl.viz.plot_retrain_table(table_c.drop(index=[table_c.index[0], table_c.index[-1]]), ax,
                          {"baseline θ̄": table_c.iloc[0], "target θ": table_c.iloc[-1]})
ax.set_title(f"{p.name}: re-training the top-{p0:g}% {RD.function} locations on {RD.input} inputs "
             f"({retrain_iters} iterations)")
lab.savefig(fig, "07_retrain_locations.png")

# %%
# NBVAL_CHECK_OUTPUT
claims_c = fl.Claims(p.name)
psnr_c = table_c[RD.input]
faig_row, full_row = "FAIG locations", "all parameters (upper bound)"
base_psnr = psnr_c.iloc[0]
if faig_row in psnr_c:
    gain = psnr_c[faig_row] - base_psnr
    claims_c.add(f"(c) FAIG's {p0:g}% locations re-learn the {RD.function} function", gain > 0,
                 f"{psnr_c[faig_row]:.2f} vs {base_psnr:.2f} dB (θ̄) on {RD.input} inputs ({gain:+.2f})",
                 "the budget is too short for these kernels alone to learn anything")
    for row in locations:
        if row not in (faig_row, full_row):
            claims_c.add(f"(c) … more than the {row.removesuffix(' locations')} locations",
                         psnr_c[faig_row] > psnr_c[row], f"{psnr_c[faig_row]:.2f} vs {psnr_c[row]:.2f} dB",
                         f"{row} re-learn more with this budget" + (
                             f" (they lie deeper, mean depth {depth[row]:.2f} vs FAIG's {depth[faig_row]:.2f}: a "
                             "short run may favour kernels near the output)" if depth[row] > depth[faig_row] else ""))
    claims_c.add("(c) training every parameter is the upper bound", psnr_c[full_row] >= psnr_c[faig_row],
                 f"{psnr_c[full_row]:.2f} vs {psnr_c[faig_row]:.2f} dB (FAIG)",
                 "the masked run beats the full fine-tune: the full run is far from converged")
claims_c.show()

# %% [markdown]
# What (c) says about the other inputs, in numbers (a full fine-tune on one degradation alone adapts the
# whole network to it; the masked runs change only a few kernels):

# %%
for row in table_c.index[1:-1]:
    print(f"{row}: " + ", ".join(f"{c} {table_c.loc[row, c] - table_c.iloc[0][c]:+.2f} dB" for c in table_c.columns)
          + " against θ̄")
