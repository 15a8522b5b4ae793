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
baseline_path = "../data/models/srresnet_x2_baseline.pth"
target_path = "../data/models/srresnet_x2_target.pth"
net = "srresnet"
dataset_root = "../data/datasets/embedded"
dataset_name = "embedded"
results_dir = "../results"
method = "faig"
crop = 96  # LR pixels of the window shown (None: whole image)

# %% [markdown]
# # The λ panel
# The top-p% filters of one set become λ·θ + (1 − λ)·θ̄: λ = 1 is the target, λ = 0 substitutes the
# baseline's filters, λ > 1 extrapolates. Notebook 04 explains it and adds the paper's λ grids; this
# page is the panel alone, served by `make app` (Voilà).

# %%
from faig_helpers.io_utils import output_dirs
from faig_helpers.modulation import ModulationPanel

results_dir, _ = output_dirs(results_dir, ".")
ModulationPanel.from_files(baseline_path, target_path, dataset_root, results=results_dir, net=net,
                           dataset=dataset_name, method=method, crop=crop).widget()
