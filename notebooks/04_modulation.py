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
net = "srresnet"
baseline_path = "../data/models/srresnet_x2_baseline.pth"
target_path = "../data/models/srresnet_x2_target.pth"
dataset_root = "../data/datasets/embedded"
dataset_name = "embedded"
results_dir = "../results"
figures_dir = "../figures"
method = "faig"
n_steps = 16  # used only if the rankings of notebook 01 are not in results_dir
quadrature = "riemann_middle"
proportion = 1.0  # % of filters modulated
lambdas = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]  # the paper: 16 values
example_image = 0

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

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from faig_helpers import plots
from faig_helpers.archs import build_from_state_dict
from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import load_dataset
from faig_helpers.modulation import ModulationPanel, lambda_sweep
from faig_helpers.substitution import n_selected, substituted_state_dict
from faig_helpers.workflow import rank_all

torch.set_num_threads(min(2, torch.get_num_threads()))
data = load_dataset(dataset_root)
baseline, target = load_pair(baseline_path, target_path)
rankings = rank_all(net, baseline_path, target_path, data, dataset_name, results_dir, [method], n_steps,
                    quadrature, progress=False)[method]
panel = ModulationPanel(baseline, target, rankings, data)

# %% [markdown]
# ## The panel
# Drag λ, switch between the deblur and the denoise filters, change the proportion or the image.
# (In a non-interactive run the panel renders once with its initial values.)

# %%
panel.widget()

# %% [markdown]
# ### λ = 1 is the target, λ = 0 is the substituted model — exactly

# %%
x = data.blur[example_image]
k = n_selected(len(panel.mod.index), proportion)
with torch.no_grad():
    ref_t = target(x)
    ref_0 = build_from_state_dict(substituted_state_dict(baseline.state_dict(), target.state_dict(),
                                                         rankings["blur"][:k]))(x)
lam1_exact = torch.equal(panel.update(1.0, "blur", proportion, example_image)["output_tensor"], ref_t)
lam0_close = torch.allclose(panel.update(0.0, "blur", proportion, example_image)["output_tensor"], ref_0, atol=1e-6)

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
for deg, label in (("blur", "deblur filters, blurry input"), ("noise", "denoise filters, noisy input")):
    ncol = 8
    nrow = int(np.ceil(len(lambdas) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.1 * ncol, 2.3 * nrow), squeeze=False)
    for ax, lam, img in zip(axes.ravel(), lambdas, grids[deg]):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(f"λ = {lam:.1f}", fontsize=9)
        ax.axis("off")
    for ax in axes.ravel()[len(lambdas):]:
        ax.axis("off")
    fig.suptitle(f"{net}: modulating the top-{proportion:g}% {method.upper()} {label} ({data.names[example_image]})")
    fig.tight_layout()
    plots.savefig(fig, f"04_modulation_{deg}.png", figures_dir)

# %% [markdown]
# ## Output difference and PSNR against λ
# Averaged over all evaluation images. Solid: the input the filter set is for; dashed: the other.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for deg in ("blur", "noise"):
    for inp, ls in (("blurry", "-" if deg == "blur" else "--"), ("noisy", "-" if deg == "noise" else "--")):
        s = sweep[(sweep.filters == deg) & (sweep.input == inp)]
        lab = f"{'deblur' if deg == 'blur' else 'denoise'} filters, {inp} input"
        axes[0].plot(s.lam, s.output_difference, ls=ls, marker=".", color=plots.PALETTE[deg], label=lab)
        axes[1].plot(s.lam, s.psnr, ls=ls, marker=".", color=plots.PALETTE[deg], label=lab)
axes[0].set(xlabel="λ", ylabel="output difference to target (×1000)", title="distance from the target")
axes[1].set(xlabel="λ", ylabel="PSNR (dB)", title="restoration quality")
for ax in axes:
    ax.axvline(1.0, color="0.5", lw=0.8)
axes[1].legend(fontsize=8)
fig.tight_layout()
plots.savefig(fig, "04_modulation_curves.png", figures_dir)
sweep.pivot_table(index="lam", columns=["filters", "input"], values="psnr").round(2).iloc[::3]

# %% [markdown]
# Raising λ on the deblur filters from 0 to 1 restores the deblurring: PSNR on blurry inputs climbs
# while noisy inputs barely move; the denoise filters do the same for noisy inputs.

# %%
def at(deg, inp, lam):
    s = sweep[(sweep.filters == deg) & (sweep.input == inp)]
    return s.iloc[np.argmin(np.abs(s.lam - lam))]


for deg, inp in (("blur", "blurry"), ("noise", "noisy")):
    assert at(deg, inp, 1.0).psnr > at(deg, inp, 0.0).psnr, (deg, inp)
    assert at(deg, inp, 1.0).output_difference < 1e-9
