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
net = None  # the pair modulated (None: the first of `pairs`)
method = "faig"  # whose filter sets are modulated
proportion = 1.0  # % of filters modulated
lambdas = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]  # the paper: 16 values
example_image = 0
example_crop = 96  # LR pixels of the window shown by the panel and the grids (None: whole image)
match_fraction = 0.5  # DNI vs FAIG at matched strength: PSNR on the set's own inputs this far from λ 0 to the target
export_lambda = 0.6  # the model exported at the end: this λ on the top-`proportion`% filters of the last set

# %% [markdown]
# # 04 — Modulating the discovered filters with λ
#
# The discovered filters can be turned up and down continuously. The top-p% filters of one set
# become
#
# $$W_\lambda = \lambda\,\theta + (1-\lambda)\,\bar\theta ,$$
#
# all other weights and biases staying the target's: λ = 1 is the target, λ = 0 the substituted
# model of notebook 02, λ > 1 extrapolates past the target. Moving λ on the **deblur** filters
# should sweep a blurry input from "not deblurred" to "deblurred" (and beyond), with the **denoise**
# filters the same for noise — and so on for every degradation of the pair's set.
#
# The panel alone, as a web app: `make app` (Voilà on http://localhost:8866, serving `app_lambda_panel`).
#
# Beside it, **DNI** (deep network interpolation, Real-ESRGAN's `dni()`): *every* parameter becomes
# λθ + (1 − λ)θ̄. Both are one-knob controls of the target; FAIG's acts on one function only.
# Any setting can be written as a BasicSR checkpoint: the panel's *export model* button,
# `fl.export_modulated(...)`, or `python -m faig_helpers modulate ...` (README, "Reports and exported models").

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import faig_helpers as fl

fl.viz.use_style()
params = fl.Params.from_namespace(globals(), methods=[method])
lab = fl.setup(params)
example_crop = lab.fit_crop(example_crop)  # ≥ each network's minimum input
p = lab.pair
scores = lab.rankings[p.name][method]
panel = fl.ModulationPanel(p.baseline, p.target, scores, p.data, crop=example_crop, device=lab.device,
                           export_dir=lab.layout.models, name=p.name)

# %% [markdown]
# ## The panel
# Drag λ, switch between the filter sets, change the proportion or the image; *modulate* switches to
# DNI (the whole network), *export model* writes what is shown under `results_dir/models/`.
# (In a non-interactive run the panel renders once with its initial values.)

# %%
panel.widget()

# %% [markdown]
# ### λ = 1 is the target, λ = 0 is the substituted model — exactly
# Checked against models built independently from the two state dicts.

# %%
d0 = p.degradations[0]
x = panel.input(d0, example_image)
substituted = copy.deepcopy(p.target)
substituted.load_state_dict(fl.modulation.modulated_state_dict(p.baseline.state_dict(), p.target.state_dict(),
                                                    scores.top(d0, proportion), 0.0, p.index))
with torch.no_grad():
    ref_t, ref_0 = p.target(x), substituted(x)
lam1_exact = torch.equal(panel.update(1.0, d0, proportion, example_image)["output_tensor"].cpu(), ref_t)
lam0_close = torch.allclose(panel.update(0.0, d0, proportion, example_image)["output_tensor"].cpu(), ref_0, atol=1e-5)

# %%
# NBVAL_CHECK_OUTPUT
print("λ = 1 reproduces the target exactly:", lam1_exact)
print("λ = 0 reproduces the substituted model:", lam0_close)

# %%
assert lam1_exact and lam0_close  # a user's pair breaks this only if the lab evaluates their network wrongly

# %% [markdown]
# ## The paper-style grids: λ ∈ {0, 0.1, …, 1.5}

# %%
sweep, grids = fl.lambda_sweep(panel.mod, scores, p.data, lambdas, proportion,
                               example=lambda d: panel.input(d, example_image))
for d in p.degradations:
    D = fl.degradation(d)
    fig = fl.viz.plot_lambda_grid(grids[d], lambdas, f"{p.name}: modulating the top-{proportion:g}% "
                                  f"{fl.viz.method_label(method)} {D.function} filters, {D.input} input "
                                  f"({p.data.names[example_image]})")
    lab.savefig(fig, f"04_modulation_{d}.png")

# %% [markdown]
# ## Output difference, PSNR and colour against λ
# Averaged over all evaluation images. Solid: the input the filter set is for; dashed: the others.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
fl.viz.plot_modulation_curves(sweep, axes)
fig.tight_layout()
lab.savefig(fig, "04_modulation_curves.png")
sweep.pivot_table(index="lam", columns=["filters", "input"], values="psnr").round(2).iloc[::3]

# %% [markdown]
# What raising λ from 0 to 1 does is a property of the pair:

# %%
def at(deg, inp, lam):
    s = sweep[(sweep.filters == deg) & (sweep.input == fl.degradation(inp).input)]
    return s.iloc[np.argmin(np.abs(s.lam - lam))]


# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims(p.name)
for d in p.degradations:
    D = fl.degradation(d)
    own = at(d, d, 1.0).psnr - at(d, d, 0.0).psnr
    others = {e: at(d, e, 1.0).psnr - at(d, e, 0.0).psnr for e in p.degradations if e != d}
    claims.add(f"λ 0 → 1 on the {D.function} filters restores {D.input} inputs", own > 0, f"{own:+.2f} dB",
               f"these filters do not carry the {D.function} function of this pair")
    worst = max(others, key=lambda e: abs(others[e]))
    claims.add(f"… more than it changes {', '.join(fl.degradation(e).input for e in others)} inputs",
               own > abs(others[worst]), f"{own:+.2f} vs {others[worst]:+.2f} dB ({fl.degradation(worst).input})",
               "the set is not specific: it moves other functions too")
    shift = at(d, d, 0.0).colour_shift
    claims.add(f"λ = 0 keeps the colour of {D.input} outputs (≤ 2 levels)", shift <= 2, f"{shift:.1f} levels",
               "turning these filters down also shifts the mean colour")
claims.show()

# %% [markdown]
# ## DNI beside FAIG modulation
# PSNR on each input type against λ: FAIG modulation of each set (its top-`proportion`% filters) and
# DNI (every parameter). At λ = 1 all are the target; at λ = 0 DNI is the baseline θ̄, FAIG the
# substituted model.

# %%
dni = fl.dni_sweep(panel.mod, p.data, lambdas)
fig, axes = plt.subplots(1, len(p.degradations), figsize=(5.2 * len(p.degradations), 3.8), squeeze=False)
fl.viz.plot_dni_vs_filters(sweep, dni, axes[0])
fig.suptitle(f"{p.name}: FAIG modulation (top-{proportion:g}% filters) and DNI (whole network)")
fig.tight_layout()
lab.savefig(fig, "04_dni_vs_faig.png")

# %% [markdown]
# **At matched strength.** For each function D: the PSNR level on D's inputs a fraction
# `match_fraction` of the way from the higher λ = 0 value to the target's is reached by FAIG at
# λ_FAIG and by DNI at λ_DNI; there, how much of the *other* functions does each keep (PSNR on the
# other inputs)? FAIG turns one function down; DNI turns every function down together.

# %%
matched = pd.DataFrame([
    {"function turned down": fl.degradation(d).function, "its PSNR level (dB)": m["level"], "λ FAIG": m["lam_FAIG"],
     "λ DNI": m["lam_DNI"], "other input": fl.degradation(e).input,
     "FAIG keeps (dB)": m[f"FAIG_{fl.degradation(e).input}"], "DNI keeps (dB)": m[f"DNI_{fl.degradation(e).input}"],
     "note": m["reason"]}
    for d in p.degradations for m in [fl.matched_strength(sweep, dni, d, match_fraction)]
    for e in p.degradations if e != d])
matched.set_index(["function turned down", "other input"]).round(2)

# %%
# NBVAL_CHECK_OUTPUT
claims_dni = fl.Claims(p.name)
for m in matched.to_dict("records"):
    f, w = m["FAIG keeps (dB)"], m["DNI keeps (dB)"]
    if m["note"]:
        claims_dni.add(f"at matched {m['function turned down']} strength FAIG keeps more of the {m['other input']} "
                       "inputs' function than DNI", False, f"not computable: {m['note']}",
                       "nothing to compare at this strength on this pair")
        continue
    claims_dni.add(f"at matched {m['function turned down']} strength FAIG keeps more of the {m['other input']} "
                   "inputs' function than DNI", f > w,
                   f"{m['other input']} PSNR {f:.2f} (λ_FAIG {m['λ FAIG']:.2f}) vs {w:.2f} dB (λ_DNI {m['λ DNI']:.2f})",
                   "FAIG's set also carries the other function on this pair (or a curve never reaches the level)")
claims_dni.show()

# %% [markdown]
# ## Export a modulated model
# The top-`proportion`% filters of the last set at λ = `export_lambda`, written as a BasicSR checkpoint
# (`params_ema` and `params`, the target's keys) — what the panel's button and
# `python -m faig_helpers modulate --degradation D --lambda λ --percent p` write. It loads with
# `fl.load_model` (and BasicSR / spandrel) and restores exactly like the modulator.

# %%
d_last = p.degradations[-1]
path = fl.export_modulated(p.baseline, p.target, lab.layout.models / f"{p.name}_{d_last}_lambda{export_lambda:g}.pth",
                           export_lambda, degradation_name=d_last, percent=proportion, ranking=scores)
x_last = panel.input(d_last, example_image)
with torch.no_grad():
    reloaded = fl.load_model(path)(x_last)
print(f"written {path.name} under the results folder's models/")
assert torch.allclose(reloaded, panel.mod.modulate(scores.top(d_last, proportion), export_lambda)(x_last), atol=1e-5)
_ = panel.mod.reset()
