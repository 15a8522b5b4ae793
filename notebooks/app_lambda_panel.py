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
method = "faig"
crop = 96  # LR pixels of the window shown (None: whole image)

# %% [markdown]
# # The λ panel
# The top-p% filters of one set become λ·θ + (1 − λ)·θ̄: λ = 1 is the target, λ = 0 substitutes the
# baseline's filters, λ > 1 extrapolates. *modulate* switches to DNI (every parameter λ·θ + (1 − λ)·θ̄,
# Real-ESRGAN's network interpolation); *export model* writes the model shown as a BasicSR checkpoint
# under `results/models/` and says where. Notebook 04 explains it and adds the paper's λ grids; this
# page is the panel, served by `make app` (Voilà), then both methods against λ.

# %%
import faig_helpers as fl

params = fl.Params.from_namespace(globals(), methods=[method])
lab = fl.setup(params)
p = lab.pair
panel = fl.ModulationPanel(p.baseline, p.target, lab.rankings[p.name][method], p.data, crop=crop, device=lab.device,
                           export_dir=lab.layout.models, name=p.name)
panel.widget()

# %% [markdown]
# ## FAIG modulation and DNI against λ
# PSNR on every input type (all evaluation images); the table: at the same strength of one function
# (PSNR on its inputs halfway from λ = 0 to the target), the PSNR each method keeps on the others.

# %%
import matplotlib.pyplot as plt
import pandas as pd

fl.viz.use_style()
lams = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2]
faig_sweep, _ = fl.lambda_sweep(panel.mod, lab.rankings[p.name][method], p.data, lams)
dni_sweep = fl.dni_sweep(panel.mod, p.data, lams)
fig, axes = plt.subplots(1, len(p.degradations), figsize=(5 * len(p.degradations), 3.6), squeeze=False)
fl.viz.plot_dni_vs_filters(faig_sweep, dni_sweep, axes[0])
fig.tight_layout()
plt.show()
pd.DataFrame([fl.matched_strength(faig_sweep, dni_sweep, d) for d in p.degradations]).set_index("degradation").round(2)
