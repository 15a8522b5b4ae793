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
net = None  # the network modulated (None: the first of `pairs`)
dataset_root = "../data/datasets/embedded"
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
method = "faig"
n_steps = None  # used only if the rankings of notebook 01 are not in results_dir (None: the library default)
quadrature = None
proportion = 1.0  # % of filters modulated
lambdas = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]  # the paper: 16 values
example_image = 0
example_crop = 96  # LR pixels of the window shown by the panel and the grids (None: whole image)

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
# filters the same for noise.
#
# The panel alone, as a web app: `make app` (Voilà on http://localhost:8866, serving `app_lambda_panel`).

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from faig_helpers import plots
from faig_helpers.archs import build_from_state_dict
from faig_helpers.claims import Claims
from faig_helpers.degradations import DEGRADATIONS
from faig_helpers.io_utils import output_dirs
from faig_helpers.modulation import ModulationPanel, lambda_sweep
from faig_helpers.substitution import substituted_state_dict

plots.use_style()
results_dir, figures_dir = output_dirs(results_dir, figures_dir)
net = next(iter(pairs)) if net is None else net
panel = ModulationPanel.from_files(*pairs[net], dataset_root, results=results_dir, net=net, dataset=dataset_name,
                                   method=method, n_steps=n_steps, quadrature=quadrature, crop=example_crop)
baseline, target, scores, data = panel.baseline, panel.target, panel.scores, panel.data

# %% [markdown]
# ## The panel
# Drag λ, switch between the deblur and the denoise filters, change the proportion or the image.
# (In a non-interactive run the panel renders once with its initial values.)

# %%
panel.widget()

# %% [markdown]
# ### λ = 1 is the target, λ = 0 is the substituted model — exactly
# Checked against models built independently from the two state dicts.

# %%
x = panel.input("blur", example_image)
with torch.no_grad():
    ref_t = target(x)
    ref_0 = build_from_state_dict(substituted_state_dict(baseline.state_dict(), target.state_dict(),
                                                         scores.top("blur", proportion)))(x)
lam1_exact = torch.equal(panel.update(1.0, "blur", proportion, example_image)["output_tensor"], ref_t)
lam0_close = torch.allclose(panel.update(0.0, "blur", proportion, example_image)["output_tensor"], ref_0, atol=1e-5)

# %%
# NBVAL_CHECK_OUTPUT
print("λ = 1 reproduces the target exactly:", lam1_exact)
print("λ = 0 reproduces the substituted model:", lam0_close)

# %%
assert lam1_exact and lam0_close

# %% [markdown]
# ## The paper-style grids: λ ∈ {0, 0.1, …, 1.5}

# %%
sweep, grids = lambda_sweep(panel, lambdas, proportion, example_image)
for d in DEGRADATIONS.values():
    fig = plots.plot_lambda_grid(grids[d.name], lambdas, f"{net}: modulating the top-{proportion:g}% {method.upper()} "
                                 f"{d.function} filters, {d.input} input ({data.names[example_image]})")
    plots.savefig(fig, f"04_modulation_{d.name}.png", figures_dir)

# %% [markdown]
# ## Output difference, PSNR and colour against λ
# Averaged over all evaluation images. Solid: the input the filter set is for; dashed: the other.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
plots.plot_modulation_curves(sweep, axes)
fig.tight_layout()
plots.savefig(fig, "04_modulation_curves.png", figures_dir)
sweep.pivot_table(index="lam", columns=["filters", "input"], values="psnr").round(2).iloc[::3]

# %% [markdown]
# λ = 1 reproduces the target for every input (asserted); what raising λ from 0 does is a property of
# the pair:

# %%
def at(deg, inp, lam):
    s = sweep[(sweep.filters == deg) & (sweep.input == inp)]
    return s.iloc[np.argmin(np.abs(s.lam - lam))]


for d in DEGRADATIONS.values():
    for inp in (d.input, d.other.input):
        assert at(d.name, inp, 1.0).output_difference < 1e-9

# %%
# NBVAL_CHECK_OUTPUT
claims = Claims(net)
for d in DEGRADATIONS.values():
    own = at(d.name, d.input, 1.0).psnr - at(d.name, d.input, 0.0).psnr
    other = at(d.name, d.other.input, 1.0).psnr - at(d.name, d.other.input, 0.0).psnr
    claims.add(f"λ 0 → 1 on the {d.function} filters restores {d.input} inputs", own > 0, f"{own:+.2f} dB",
               f"these filters do not carry the {d.function} function of this pair")
    claims.add(f"… more than it changes {d.other.input} inputs", own > abs(other), f"{own:+.2f} vs {other:+.2f} dB",
               "the set is not specific: it moves both functions")
    shift = at(d.name, d.input, 0.0).colour_shift
    claims.add(f"λ = 0 keeps the colour of {d.input} outputs (≤ 2 levels)", shift <= 2, f"{shift:.1f} levels",
               "turning these filters down also shifts the mean colour")
claims.show()
