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
net = None  # network of the qualitative grid (None: the first of `pairs`)
dataset_root = "../data/datasets/embedded"
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
methods = ["faig", "ig", "abs_filter_change", "random"]
n_steps = None  # FAIG / IG quadrature (None: the library default); rankings of notebook 01 are reused when they match
quadrature = None
table_proportions = [1, 3, 5, 10]  # % of filters substituted, as the paper's table
claim_proportions = [1, 5]  # the cells of the paper's table the claims are checked on
curve_proportions = [0, 1, 3, 5, 10, 20, 50, 100]
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
# noisy inputs. The reverse holds for the noise filters. A method is better the larger this gap.
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

from faig_helpers import plots
from faig_helpers.checkpoint import load_pair
from faig_helpers.claims import Claims, fmt
from faig_helpers.comparison import compare, save_original_layout_metrics
from faig_helpers.degradations import DEGRADATIONS, load_dataset
from faig_helpers.images import to_image
from faig_helpers.modulation import crop_box, upscale_input
from faig_helpers.io_utils import output_dirs
from faig_helpers.rankings import rank_all
from faig_helpers.substitution import FilterModulator

plots.use_style()
results_dir, figures_dir = output_dirs(results_dir, figures_dir)
net = next(iter(pairs)) if net is None else net
data = load_dataset(dataset_root)
models = {name: load_pair(*paths) for name, paths in pairs.items()}
ranked = {name: rank_all(*models[name], data, results=results_dir, net=name, dataset=dataset_name, methods=methods,
                         n_steps=n_steps, quadrature=quadrature, progress=False) for name in pairs}

# %% [markdown]
# ## The paper's table: 1, 3, 5 and 10% of the filters substituted
# (One pass computes every proportion of the table and of the curves below.)

# %%
tables, curves = {}, {}
for name, (baseline, target) in models.items():
    save = (results_dir, name, dataset_name) if save_outputs else None
    every = sorted({0} | set(table_proportions) | set(claim_proportions) | set(curve_proportions))
    curves[name] = compare(baseline, target, ranked[name], data, every, metric_mode, save=save,
                           save_proportions=table_proportions)
    tables[name] = curves[name][curves[name].proportion.isin(set(table_proportions) | set(claim_proportions))]
    save_original_layout_metrics(curves[name][curves[name].proportion.isin(table_proportions)], results_dir, name,
                                 dataset_name)
table = pd.concat(tables, names=["net"]).reset_index(level=0)
wide = table.pivot_table(index=["net", "masked", "input"], columns=["method", "proportion"],
                         values="output_difference")
wide[[m for m in methods]].round(3)

# %%
fig, axes = plt.subplots(len(pairs), 2, figsize=(14, 3.4 * len(pairs)), squeeze=False)
for row, name in zip(axes, pairs):
    plots.plot_substitution_table(tables[name], table_proportions, name, row)
fig.tight_layout()
plots.savefig(fig, "02_substitution_table.png", figures_dir)

# %% [markdown]
# ### The claims
# For every network, at the proportions of the paper's table: substituting FAIG's deblur filters
# changes blurry outputs more than noisy ones (and the denoise filters the reverse); on the function
# it targets, FAIG's set changes the outputs more than IG's, |Δθ|'s and random's; and FAIG's sets do
# not carry colour. *Selectivity* below is the same-function difference minus the other-function
# difference (higher = more specific).

# %%
def cell(name, method, masked, inp, p, col="output_difference"):
    t = tables[name]
    return t[(t.method == method) & (t.masked == masked) & (t.input == inp) & (t.proportion == p)][col].item()


selectivity = pd.DataFrame({(name, d.function, f"{p:g}%"): {
    plots.METHOD_LABELS[m]: cell(name, m, d.name, d.input, p) - cell(name, m, d.name, d.other.input, p) for m in methods}
    for name in pairs for d in DEGRADATIONS.values() for p in claim_proportions})
selectivity.round(3)

# %%
# NBVAL_CHECK_OUTPUT
claims = Claims()
others = [m for m in methods if m != "faig"]
if "faig" in methods:
    for name in pairs:
        for p in claim_proportions:
            for d in DEGRADATIONS.values():
                own, other = cell(name, "faig", d.name, d.input, p), cell(name, "faig", d.name, d.other.input, p)
                claims.add(f"{p:g}% {d.function} set: {d.input} > {d.other.input}", own > other,
                           f"{fmt(own)} vs {fmt(other)}",
                           f"this set is not specific to the {d.function} function: it changes {d.other.input} "
                           "outputs as much",
                           subject=name)
                if others:
                    rival = max(others, key=lambda m: cell(name, m, d.name, d.input, p))
                    best = cell(name, rival, d.name, d.input, p)
                    claims.add(f"{p:g}% {d.function} set: FAIG first on {d.input} inputs", own > best,
                               f"FAIG {fmt(own)} vs {plots.METHOD_LABELS[rival]} {fmt(best)}",
                               f"{plots.METHOD_LABELS[rival]}'s set removes more of the {d.function} function "
                               "here (check its selectivity above: it may change every input)", subject=name)
        p0 = min(claim_proportions)
        for d in DEGRADATIONS.values():
            shift = np.mean([cell(name, "faig", d.name, inp, p0, "colour_shift") for inp in ("blurry", "noisy")])
            claims.add(f"{p0:g}% {d.function} set keeps colour (≤ {max_colour_shift:g} levels)", shift <= max_colour_shift,
                       f"{shift:.1f} levels", "the set also carries a global colour change of the fine-tune",
                       subject=name)
claims.show()

# %% [markdown]
# ## Curves: from 0 to 100% substituted
# At 100% every filter is the baseline's (only biases stay the target's), so all methods meet at
# the right end; what matters is how fast each method's curve rises on the function it targets
# (panels 1 and 3, higher is better) while staying low on the other (panels 2 and 4).

# %%
fig, axes = plt.subplots(len(pairs), 4, figsize=(19, 3.9 * len(pairs)), squeeze=False)
for row, name in zip(axes, pairs):
    plots.plot_substitution_curves(curves[name][curves[name].proportion.isin(curve_proportions)], name, row)
    row[0].set_title(f"{name}\n" + row[0].get_title(), fontsize=9)
fig.suptitle("")
fig.tight_layout()
plots.savefig(fig, "02_substitution_curves.png", figures_dir)

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
baseline, target = models[net]
mod = FilterModulator(baseline, target)
grid = {}
for d in DEGRADATIONS.values():
    x = getattr(data, d.name)[example_image]
    top, left, h, w = crop_box(x.shape, example_crop)
    x = x[..., top:top + h, left:left + w]
    row = {f"input (nearest ×{data.scale})": to_image(upscale_input(x, data.scale)),
           "target output": to_image(mod.reset()(x))}
    if "faig" in ranked[net]:
        for e in DEGRADATIONS.values():
            row[f"{p0:g}% {e.function} filters substituted"] = to_image(mod.set(ranked[net]["faig"].top(e.name, p0), 0.0)(x))
    grid[f"{d.input} input"] = row
mod.reset()
fig = plots.plot_qualitative_grid(grid, f"{net}, FAIG top-{p0:g}% filters, {data.names[example_image]} "
                                  f"({h}×{w} LR pixels at ×{data.scale})")
plots.savefig(fig, "02_qualitative_grid.png", figures_dir)

# %% [markdown]
# What the grid shows, in numbers (all evaluation images; "target" is 0% substituted):

# %%
if "faig" in ranked[net]:
    c = curves[net]

    def at(masked, inp, p, col):
        return c[(c.method == "faig") & (c.masked == masked) & (c.input == inp) & (c.proportion == p)][col].item()

    for d in DEGRADATIONS.values():
        lost = {inp: at(d.name, inp, 0, "psnr") - at(d.name, inp, p0, "psnr") for inp in (d.input, d.other.input)}
        shift = np.mean([at(d.name, inp, p0, "colour_shift") for inp in (d.input, d.other.input)])
        print(f"{net}, {p0:g}% {d.function} filters substituted: PSNR falls by {lost[d.input]:.2f} dB on {d.input} "
              f"and by {lost[d.other.input]:.2f} dB on {d.other.input} inputs "
              f"({'mostly the ' + d.function + ' function is lost' if lost[d.input] > lost[d.other.input] else 'not specific to the ' + d.function + ' function'}); "
              f"mean colour shift {shift:.1f} levels "
              f"({'a visible cast' if shift > max_colour_shift else 'colour kept'}).")
