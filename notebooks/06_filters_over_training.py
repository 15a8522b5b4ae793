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
pairs = None  # name -> (baseline θ̄, the run: an experiment folder or a glob of checkpoints); None: the embedded sweep
net = None  # the pair of `pairs` swept (None: the first)
dataset_root = None  # evaluation root (None: the pair's; the embedded sweep: data/datasets/embedded_jpeg)
results_dir = None  # None: $FAIG_LAB_RESULTS_DIR, else the repository's results/ (the sweep: results/sweeps/)
methods = None  # None: FAIG only (a sweep ranks every checkpoint)
n_steps = None  # quadrature nodes (None: 8 with this notebook's default rule, else the library default)
quadrature = None  # quadrature rule (None here: "riemann_middle", 8 nodes; checked below against the library default)
baseline = None  # θ̄ of the sweep (None: the pair's; the embedded sweep: data/models/compact_x2_baseline.pth)
checkpoints = None  # the run's θ_t: experiment folder, its models/ or a glob (None: the pair's run; the embedded
# sweep: data/experiments/compact_x2_target/models/net_g_{iter}.pth)
engine = None  # where the images run: None or "local" (threads), "ray" (a local Ray instance), a fl.RayEngine
max_images = None  # None: every evaluation image
top_percent = 1.0  # size of the discovered sets
jaccard_threshold = 0.5  # "the final set is found" once the top-1% Jaccard with it stays ≥ this
early_fraction = 0.5  # ... and "early" if that happens within this fraction of the run
check_crop = 32  # LR centre crop (pixels) of the check of the sweep's quadrature against the library default
check_images = 4  # images of that check

# %% [markdown]
# # 06 — Filters over training: how the discovered sets emerge during fine-tuning
#
# A fine-tuning run from the baseline θ̄ saves checkpoints θ_t along the way (BasicSR:
# `experiments/NAME/models/net_g_{iter}.pth`). FAIG ranks the filters of every θ_t against θ̄ — the
# straight path θ̄ → θ_t in parameter space — so we can watch, for each degradation D, *when* the
# network learns to undo D and *when* the filters that carry that function appear:
#
# * the **PSNR gain** of θ_t over θ̄ on D's inputs: how much of the function exists at iteration t;
# * the top-1% **Jaccard** of θ_t's D-set with the final checkpoint's: how early the final set is found;
# * the **layer shares** of each set: where in the network the function is built, as training goes;
# * the **masking difference**: substituting θ_t's top-1% D-filters by θ̄'s in θ_t and measuring the
#   output difference (notebook 02's metric) on D's inputs against the other degradations' inputs —
#   whether each checkpoint's set is specific to its degradation.
#
# Each checkpoint is ranked as one pair by `fl.sweeps.rank_checkpoints` (also `python -m faig_helpers rank
# --checkpoints DIR`), saved under `results/sweeps/{net}/{dataset}/{checkpoint}/` and reused when the
# notebook runs again; `engine="ray"` runs the images on Ray (README, "Ray clusters and Slurm").

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import faig_helpers as fl

fl.viz.use_style()
sweep_quadrature = quadrature or "riemann_middle"
sweep_steps = n_steps if n_steps is not None else 8 if sweep_quadrature == "riemann_middle" else None
params = fl.Params.from_namespace(globals())
lab, sweep = fl.sweeps.setup_sweep(params.replace(n_steps=sweep_steps, quadrature=sweep_quadrature),
                             baseline=baseline, checkpoints=checkpoints, engine=engine, max_images=max_images)
check_crop = lab.fit_crop(check_crop)  # ≥ each network's minimum input
p = lab.pair
degs = p.degradations
x, xlabel = sweep.axis()
colours = fl.viz.degradation_colours(degs)
method = "faig" if "faig" in sweep.methods else sweep.methods[0]
scores = dict(zip(sweep.stems, sweep.of(method)))
final = scores[sweep.final.stem]
print(f"{p.name}: {len(sweep)} checkpoints ({', '.join(sweep.stems)}), {len(p.index)} filters, ×{p.scale}, "
      f"{len(p.data)} images of {p.dataset_name} ({', '.join(degs)}); {fl.viz.method_label(method)} with "
      f"{lab.quadrature}, {lab.n_steps} nodes; rankings in {sweep.out}")
sweep.table()[["checkpoint", "iteration", "seconds", "reused"]].round(1)

# %% [markdown]
# ## The function: PSNR gain over the baseline
# Mean PSNR (dB, RGB) of each checkpoint on the clean and on each degradation's inputs, minus the
# baseline's.

# %%
models = {s: sweep.load(s) for s in sweep.stems}
quality = fl.quality_table({"baseline θ̄": p.baseline, **models}, p.data, device=lab.device)
gain = quality.loc[sweep.stems] - quality.loc["baseline θ̄"]
gain.index = pd.Index(x, name=xlabel)
print(quality.attrs["metric"])
gain.round(2)

# %% [markdown]
# ## The filters: agreement with the final set, and where they live

# %%
jac = pd.DataFrame({d: [fl.top_jaccard(scores[s].score(d), final.score(d), top_percent) for s in sweep.stems]
                    for d in degs}, index=pd.Index(x, name=xlabel))


def layer_share(index):
    """% of a filter set in each conv layer (rows: layers in network order)."""
    t = fl.distribution.layer_shares(p.index, {"set": index})
    return t[t.set == "set"].set_index("layer").share


shares = {d: pd.concat({xi: layer_share(scores[s].top(d, top_percent)) for xi, s in zip(x, sweep.stems)}, axis=1)
          for d in degs}
names = fl.viz.short_layer_names(p.index)
jac.round(2)

# %% [markdown]
# ## Is each checkpoint's set specific? Masking difference
# In every θ_t the top-1% D-filters are substituted by the baseline's; the output difference (gradient
# maps of the gray outputs, × 1000, against θ_t's own outputs) is measured on D's inputs and on the others'.

# %%
rows = []
for xi, s in zip(x, sweep.stems):
    t = fl.compare(p.baseline, models[s], {method: scores[s]}, p.data, [top_percent], progress=False,
                   device=lab.device)
    rows.append(t.assign(x=xi, checkpoint=s))
masking = pd.concat(rows, ignore_index=True)
same = masking.masked == masking.input_degradation
own = masking[same].pivot(index="x", columns="masked", values="output_difference")
other = masking[~same].groupby(["x", "masked"]).output_difference
others_max, others_mean = other.max().unstack(), other.mean().unstack()
pd.concat({"own inputs": own, "others' inputs (max)": others_max}, axis=1).rename_axis(xlabel).round(3)

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
for d in degs:
    D = fl.degradation(d)
    axes[0].plot(x, gain[D.input], "o-", color=colours[d], label=f"{D.input} inputs")
    axes[1].plot(x, jac[d], "o-", color=colours[d], label=f"{D.function} set")
    axes[2].plot(x, own[d], "o-", color=colours[d], label=f"{D.function} set, on {D.input} inputs")
    axes[2].plot(x, others_mean[d], "o--", color=colours[d], alpha=0.6, label=f"{D.function} set, on the others'")
if "clean" in gain:
    axes[0].plot(x, gain["clean"], "s:", color="0.4", label="clean inputs")
axes[0].axhline(0, color="0.6", lw=0.8)
axes[1].axhline(jaccard_threshold, color="0.6", lw=0.8, ls="--")
axes[2].set_yscale("log")
for ax, title, ylabel in zip(axes, ["function learned", f"top-{top_percent:g}% set vs the final one",
                                    f"masking the top-{top_percent:g}% set"],
                             ["PSNR gain over θ̄ (dB)", "Jaccard with the final set", "output difference (×1000)"]):
    ax.set(title=f"{p.name}: {title}", xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8)
axes[1].set_ylim(-0.03, 1.03)
fig.tight_layout()
lab.savefig(fig, "06_emergence.png")

# %%
fig, axes = plt.subplots(1, len(degs), figsize=(4.6 * len(degs), 0.22 * len(names) + 2.2), squeeze=False)
for ax, d in zip(axes[0], degs):
    sns.heatmap(shares[d].set_axis(names), ax=ax, cmap="mako_r", vmin=0, cbar_kws={"label": "% of the set"})
    ax.set(title=f"{fl.degradation(d).function} set: share per layer", xlabel=xlabel, ylabel="conv layer")
fig.tight_layout()
lab.savefig(fig, "06_layer_shares.png")

# %% [markdown]
# ## Is the sweep's quadrature good enough?
# The sweep's rule (by default eight midpoint nodes per checkpoint) keeps a sweep affordable; at the final
# checkpoint, on centre crops of a few images, the top-1% sets it finds are compared with those of the
# library default rule (skipped when the sweep uses the default).

# %%
check = None
if (lab.quadrature, lab.n_steps) != (fl.DEFAULT_QUADRATURE, fl.DEFAULT_STEPS):
    crops = p.data.subset(check_images, size=check_crop)
    with fl.open_engine(lab.engine) as eng:
        fast, ref = [fl.attribute(method, p.baseline, models[sweep.final.stem], crops, device=lab.device,
                                  progress=False, n_steps=n, quadrature=q, engine=eng)
                     for q, n in ((lab.quadrature, lab.n_steps), (fl.DEFAULT_QUADRATURE, fl.DEFAULT_STEPS))]
    check = {d: fl.top_jaccard(fast.score(d), ref.score(d), top_percent) for d in degs}
    print(f"final checkpoint, {len(crops)} images, {check_crop}×{check_crop} crops: top-{top_percent:g}% Jaccard of "
          f"{lab.quadrature}-{lab.n_steps} with {fl.DEFAULT_QUADRATURE}: "
          + ", ".join(f"{d} {v:.2f}" for d, v in check.items()))

# %% [markdown]
# ## What this run shows
# *Grows with training*: the gain's rank correlation with the iteration (Spearman ρ) is ≥ 0.7 and the
# last checkpoint gains more than the first. *Found early*: the Jaccard with the final set reaches
# `jaccard_threshold` and stays there from an iteration within `early_fraction` of the run.
# *Specific*: in every checkpoint, masking the D-set changes D's inputs more than any other's.

# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims(p.name)
xs = pd.Series(x, dtype=float)
for d in degs:
    D = fl.degradation(d)
    g = gain[D.input].reset_index(drop=True)
    rho = g.rank().corr(xs.rank()) if len(x) > 1 else float("nan")
    claims.add(f"the gain on {D.input} inputs grows with training", rho >= 0.7 and g.iloc[-1] > g.iloc[0],
               f"{g.iloc[0]:+.2f} → {g.iloc[-1]:+.2f} dB, ρ = {rho:.2f}",
               "the function is not built steadily over this run (or not at all)")
for d in degs:
    D = fl.degradation(d)
    j = jac[d].to_numpy()
    stays = next(k for k in range(len(j)) if (j[k:] >= min(jaccard_threshold, 1.0)).all())
    found = x[stays]
    frac = found / x[-1]  # fine-tuning starts from θ̄ at 0
    claims.add(f"the final {D.function} set is found early (Jaccard ≥ {jaccard_threshold:g} within "
               f"{early_fraction:.0%} of the run)", frac <= early_fraction,
               f"from {found} on ({frac:.0%} of the run); {j[0]:.2f} at the first checkpoint",
               "the discovered filters change late in fine-tuning: a set found early is not the final one")
for d in degs:
    D = fl.degradation(d)
    ok = own[d] > others_max[d]
    claims.add(f"every checkpoint's {D.function} set is specific to {D.input} inputs", ok.all(),
               f"{int(ok.sum())} of {len(ok)} checkpoints; last: {fl.fmt(own[d].iloc[-1])} vs "
               f"{fl.fmt(others_max[d].iloc[-1])}",
               "in some checkpoints masking this set changes other inputs as much: not yet (or no longer) specific")
if check is not None:
    worst = min(check, key=check.get)
    claims.add(f"{lab.quadrature}-{lab.n_steps} finds the library default's final top-{top_percent:g}% sets "
               "(Jaccard ≥ 0.8)", check[worst] >= 0.8, ", ".join(f"{d} {v:.2f}" for d, v in check.items()),
               "rank this run with quadrature=None replaced by fl.DEFAULT_QUADRATURE (slower) before reading the sets")
claims.show()

# %% [markdown]
# The same numbers in words:

# %%
for d in degs:
    D = fl.degradation(d)
    best = int(np.argmax(gain[D.input].to_numpy()))
    top_layer = shares[d].iloc[:, -1].idxmax()
    print(f"{D.function}: {gain[D.input].iloc[-1]:+.2f} dB on {D.input} inputs at the end (best "
          f"{gain[D.input].max():+.2f} dB at {x[best]}); Jaccard with the final set {jac[d].iloc[0]:.2f} at the "
          f"first checkpoint, {jac[d].iloc[len(x) // 2]:.2f} half-way; the final set's largest share is in "
          f"{names[top_layer]} ({shares[d].iloc[top_layer, -1]:.0f}%).")
