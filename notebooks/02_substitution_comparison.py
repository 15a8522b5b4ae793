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
net = None  # the pair of the qualitative grid (None: the first of `pairs`)
table_proportions = [1, 3, 5, 10]  # % of filters substituted, as the paper's table
claim_proportions = [1, 5]  # the cells of the paper's table the claims are checked on
curve_proportions = [0, 1, 3, 5, 10, 20, 50, 100]
saturation_level = 0.9  # curve ①: the smallest proportion where FAIG's curve reaches this fraction of its 100% value
saturation_within = 10  # … claimed to be at most this % (the paper: "saturates within a few percent")
metric_mode = "gray"  # "gray" (the paper's intent) or "original" (the original code: blue channel)
max_colour_shift = 2.0  # 8-bit levels: a set that shifts colour more carries more than its function
save_outputs = True  # restored PNGs + gradient maps in the original results layout
example_image = 0  # index of the image in the qualitative grid
example_crop = 64  # LR pixels of the crop shown (None: whole image)

# %% [markdown]
# # 02 — Do the discovered filters carry the function? Substitution comparison
#
# If FAIG's top blur filters really implement *deblurring*, then putting the baseline's version of
# just those filters back into the target (**substitution**, the paper's "masking") should remove
# the deblurring — large change on blurry inputs — while leaving denoising intact — small change on
# noisy inputs. The reverse holds for the noise filters, and for N degradations every set D should
# change D's inputs more than any other degradation's: the paper's 2×2 table becomes N×N. A method is
# better the larger this gap.
#
# **Output difference.** Each output is quantised to 8 bit, converted to gray (luma
# Y = 0.299 R + 0.587 G + 0.114 B) and mapped to its gradient magnitude
# M = √(dx² + dy² + 10⁻⁶) with central differences; the difference is mean((M_sub − M_target)²) × 1000,
# averaged over images. The original code meant to do the same, but it read the images in colour and
# used their first channel (blue): `metric_mode="original"` reproduces that, so numbers can be
# compared with the original tools; by default we convert to gray properly.
#
# **Colour shift.** The gradient map is blind to a change of mean colour, so we also report, per
# output, the largest of the three channel-mean differences to the target's output (8-bit levels).
# A set whose substitution shifts colour carries more than deblurring or denoising.
#
# | measured on | substituted filters | expected |
# |---|---|---|
# | blurry input | deblur filters | **large** (function lost) |
# | noisy input | deblur filters | small (other function kept) |
# | noisy input | denoise filters | **large** |
# | blurry input | denoise filters | small |

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import faig_helpers as fl

fl.viz.use_style()
params = fl.Params.from_namespace(globals())
lab = fl.setup(params)
ranked = lab.rankings
example_crop = lab.fit_crop(example_crop)  # ≥ each network's minimum input

# %% [markdown]
# ## The paper's table: 1, 3, 5 and 10% of the filters substituted
# (One pass computes every proportion of the table and of the curves below.)

# %%
tables, curves = {}, {}
every = sorted({0, 100} | set(table_proportions) | set(claim_proportions) | set(curve_proportions))
for n, p in lab.pairs.items():
    save = (lab.layout, n, p.dataset_name) if save_outputs else None
    curves[n] = fl.compare(p.baseline, p.target, ranked[n], p.data, every, metric_mode, save=save,
                           save_proportions=table_proportions, device=lab.device)
    tables[n] = curves[n][curves[n].proportion.isin(set(table_proportions) | set(claim_proportions))]
    fl.comparison.save_original_layout_metrics(curves[n][curves[n].proportion.isin(table_proportions)], lab.layout, n,
                                    p.dataset_name)
table = pd.concat(tables, names=["net"]).reset_index(level=0)
wide = table.pivot_table(index=["net", "masked", "input"], columns=["method", "proportion"], values="output_difference")
wide[[m for m in lab.methods]].round(3)

# %%
width = max(len(p.degradations) for p in lab.pairs.values())
fig, axes = plt.subplots(len(lab.pairs), width, figsize=(7 * width, 3.4 * len(lab.pairs)), squeeze=False)
for row, (n, p) in zip(axes, lab.pairs.items()):
    fl.viz.plot_substitution_table(tables[n], table_proportions, n, row[:len(p.degradations)])
    for ax in row[len(p.degradations):]:
        ax.axis("off")
fig.tight_layout()
lab.savefig(fig, "02_substitution_table.png")

# %% [markdown]
# ### The claims
# For every network, at the proportions of the paper's table: substituting FAIG's deblur filters
# changes blurry outputs more than noisy ones (and the denoise filters the reverse); on the function
# it targets, FAIG's set changes the outputs more than IG's, |Δθ|'s and random's; and FAIG's sets do
# not carry colour. The paper's measure alone rewards a set that breaks *every* function, so beside it
# stands **specificity**: a set's difference on its own degradation's inputs over its largest difference on
# another's (above 1: it changes its own function's outputs most), with the PSNR each input kind loses
# (dB) and the colour shift (8-bit levels) on its own inputs and the worst on another's.

# %%
specific = pd.concat({n: fl.specificity(tables[n][tables[n].proportion.isin(claim_proportions)])
                      for n in lab.pairs}, names=["net"]).reset_index(level=0)
specific["method"] = specific.method.map(fl.viz.method_label)
specific["set"] = specific.masked.map(lambda d: fl.degradation(d).function)
specific.set_index(["net", "proportion", "set", "method"])[
    ["own", "largest_other", "specificity", "psnr_lost_own", "psnr_lost_other", "colour_own", "colour_other"]].round(2)

# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims()
for n in lab.pairs:
    if "faig" in ranked[n]:
        claims.extend(fl.substitution_claims(tables[n], claim_proportions, max_colour_shift, subject=n))
claims.show()

# %% [markdown]
# ## Curves: from 0 to 100% substituted
# At 100% every filter is the baseline's (only biases stay the target's), so all methods meet at the
# right end; what matters is how fast each method's curve rises on the function it targets (the
# diagonal panels, higher is better) while staying low on the others (off the diagonal).

# %%
for i, (n, pr) in enumerate(lab.pairs.items()):
    nd = len(pr.degradations)
    fig, axes = plt.subplots(nd, nd, figsize=(4.6 * nd, 3.4 * nd), squeeze=False)
    fl.viz.plot_substitution_curves(curves[n][curves[n].proportion.isin(curve_proportions)], n, axes)
    fig.tight_layout()
    lab.savefig(fig, f"02_substitution_curves_{n}.png")

# %% [markdown]
# ### The curves' shapes, as claims
# The paper reads two shapes off FAIG's diagonal curves: ① the **deblur** filters' curve on blurry
# inputs *saturates within a few percent* — the few filters FAIG ranks first carry nearly all of the
# function — and ③ the **denoise** filters' curve on noisy inputs *overshoots* the full-baseline
# difference: removing only the denoise filters changes noisy outputs more than putting back the whole
# baseline (at 100% the baseline's own way of handling noise returns with it). For a set of N
# degradations both shapes are measured on every D-set's curve on D's inputs (values at
# `curve_proportions`, 100% always included): *saturation* is the smallest proportion where the curve
# reaches `saturation_level` of its 100% value, claimed to be at most `saturation_within`%;
# *overshoot* is the curve's maximum over the proportions below 100% against its value at 100%.

# %%
# NBVAL_CHECK_OUTPUT
curve_claims = fl.Claims()
for n, pr in lab.pairs.items():
    if "faig" not in ranked[n]:
        continue
    c = curves[n]
    for d in pr.degradations:
        D = fl.degradation(d)
        s = c[(c.method == "faig") & (c.masked == d) & (c.input_degradation == d)
              & c.proportion.isin(set(curve_proportions) | {100})].sort_values("proportion")
        props, vals = s.proportion.to_numpy(float), s.output_difference.to_numpy(float)
        full = vals[props == 100].item()
        reached = props[(props > 0) & (vals >= saturation_level * full)]
        at = reached.min() if len(reached) else np.nan
        curve_claims.add(f"{D.function} set on {D.input} inputs saturates: {saturation_level:.0%} of its 100% value "
                         f"by ≤ {saturation_within:g}%", at <= saturation_within,
                         f"reached at {at:g}% ({fl.fmt(vals[props == at].item() if len(reached) else np.nan)} "
                         f"vs {fl.fmt(full)} at 100%)", f"the curve keeps rising past {saturation_within:g}%: the "
                         f"{D.function} function is spread over more filters than the top few percent", subject=n)
        below = props < 100
        peak = vals[below].max()
        curve_claims.add(f"{D.function} set on {D.input} inputs overshoots the full baseline (max > value at 100%)",
                         peak > full, f"max {fl.fmt(peak)} at {props[below][np.argmax(vals[below])]:g}% vs "
                         f"{fl.fmt(full)} at 100% (×{peak / full:.2f})" if full > 0 else f"max {fl.fmt(peak)}",
                         "the curve rises to its 100% value without passing it: removing these filters changes "
                         f"{D.input} outputs no more than the whole baseline does", subject=n)
curve_claims.show()

# %% [markdown]
# ## PSNR and colour of the substituted models (1%)

# %%
p0 = min(table_proportions)
summary = table[table.proportion == p0].pivot_table(index=["net", "method"], columns=["masked", "input"],
                                                     values=["psnr", "colour_shift"])
summary.round(2)

# %% [markdown]
# ## One image, side by side

# %%
p = lab.pair
mod = fl.FilterModulator(*p.models, device=lab.device)
grid = {}
for d in p.degradations:
    x = p.data[d][example_image]
    x = fl.crop(x, fl.crop_box(x.shape, example_crop))
    row = {f"input (nearest ×{p.scale})": fl.to_image(fl.upscale_nearest(x, p.scale)),
           "target output": fl.to_image(mod.reset()(x))}
    if "faig" in ranked[p.name]:
        for e in p.degradations:
            row[f"{p0:g}% {fl.degradation(e).function} filters substituted"] = fl.to_image(
                mod.substitute(ranked[p.name]["faig"].top(e, p0))(x))
    grid[f"{fl.degradation(d).input} input"] = row
mod.reset()
h, w = x.shape[-2:]
fig = fl.viz.plot_qualitative_grid(grid, f"{p.name}, FAIG top-{p0:g}% filters, {p.data.names[example_image]} "
                                   f"({h}×{w} LR pixels at ×{p.scale})")
lab.savefig(fig, "02_qualitative_grid.png")

# %% [markdown]
# What the grid shows, in numbers (all evaluation images; "target" is 0% substituted):

# %%
if "faig" in ranked[p.name]:
    c = curves[p.name]
    for d in p.degradations:
        D = fl.degradation(d)
        lost = {e: fl.table_value(c, "faig", d, e, 0, "psnr") - fl.table_value(c, "faig", d, e, p0, "psnr")
                for e in p.degradations}
        rest = [e for e in p.degradations if e != d]
        verdict = f"mostly the {D.function} function is lost" if all(lost[d] > lost[e] for e in rest) else \
            f"not specific to the {D.function} function"
        shift = np.mean([fl.table_value(c, "faig", d, e, p0, "colour_shift") for e in p.degradations])
        print(f"{p.name}, {p0:g}% {D.function} filters substituted: PSNR falls by {lost[d]:.2f} dB on {D.input} and by "
              + ", ".join(f"{lost[e]:.2f} dB on {fl.degradation(e).input}" for e in rest) + f" inputs ({verdict}); "
              f"mean colour shift {shift:.1f} levels "
              f"({'a visible cast' if shift > max_colour_shift else 'colour kept'}).")
