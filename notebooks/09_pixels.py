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
pairs = None  # name -> (baseline θ̄, target θ); None: the embedded SRResNet pair and the published Real-CUGAN pair
net = None  # the pair of the DI table and the box picker (None: the first of `pairs`)
n_steps = 8  # the rankings' quadrature nodes: a quick look (None: the library default)
quadrature = "gausslegendre"  # (None: the library default)
images = 4  # images the rankings use (None: all)
crop = 48  # their LR centre crop (None: whole images)
top_percent = 1.0  # the substituted filter sets
example_image = 0  # the image the maps are computed on
lam_crop = 32  # its LR centre crop (None: whole; raised to what the network accepts)
box_size = 16  # the output box of the detector (LAM's window), at the centre of the output by default
lam_sigma = 1.2  # LAM's defaults: the blur the path starts from, its points and kernel size
lam_fold = 50
lam_kernel = 9

# %% [markdown]
# # 09 — Which input pixels do the discovered filters use? LAM beside FAIG
#
# FAIG says *which filters* carry a function. **LAM** (Local Attribution Maps, Gu & Dong, CVPR 2021)
# says *which input pixels* an SR network uses for one output patch: integrated gradients of the output's
# gradient magnitude inside a box, along a path from a strongly blurred input (Gaussian σ 1.2) to the
# input itself (50 points, kernel 9); the map is |Σ_channels| normalised to 1, and its **diffusion index**
# DI = (1 − Gini) × 100 says how widely the network looks (`fl.local_attribution_map`, checked against
# LAM's published code by `scripts/check_lam_published.py`: map within 5·10⁻⁵, DI to 3 decimals).
#
# Put side by side: what does the network lose *in pixel space* when the filters FAIG found for one
# degradation are substituted by the baseline's? If the deblur filters are what lets the network gather
# information from far away on blurry inputs, substituting them should shrink the area (DI falls) on
# blurry inputs — and leave noisy ones alone.

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import clear_output, display

import faig_helpers as fl

fl.viz.use_style()
default = {"srresnet": fl.default_pairs()["srresnet"], "realcugan": fl.realcugan_pair()}
params = fl.Params.from_namespace(globals(), pairs=default)
lab = fl.setup(params, images=images, crop=crop)
options = dict(sigma=lam_sigma, fold=lam_fold, kernel_size=lam_kernel)
lam_crop = lab.fit_crop(lam_crop)


def example(p, d):
    """The LR input of degradation ``d`` the maps are computed on (centre crop)."""
    x = lab.pairs[p.name].data[d][example_image]
    return fl.crop(x, fl.crop_box(x.shape, lam_crop)) if lam_crop else x


# %% [markdown]
# ## The teaser, extended
# For each pair, on the inputs of the degradation its fine-tune gained most on: the target, the target
# with that degradation's top-`top_percent`% FAIG filters substituted, and the baseline — each output with
# the box, and the LAM map under it.

# %%
teaser = {}
fig, axes = plt.subplots(2 * len(lab.pairs), 4, figsize=(12.8, 6.4 * len(lab.pairs)), squeeze=False)
for k, (n, p) in enumerate(lab.pairs.items()):
    gains = fl.quality_table({"b": p.baseline, "t": p.target}, p.data, device=lab.device)
    gain = gains.loc["t"] - gains.loc["b"]
    d = max(p.degradations, key=lambda e: gain[fl.degradation(e).input])
    x = example(p, d)
    box = fl.central_box(x, p.scale, box_size)
    maps = fl.pair_maps(p.baseline, p.target, lab.rankings[n]["faig"].top(d, top_percent), x, box, device=lab.device,
                        **options)
    teaser[n] = (d, maps)
    D = fl.degradation(d)
    columns = {f"{D.input} input (×{p.scale} nearest)": (fl.to_image(fl.upscale_nearest(x, p.scale)), maps["target"]),
               "target θ": (fl.to_image(maps["target"].output), maps["target"]),
               f"{top_percent:g}% {D.function} filters substituted": (fl.to_image(maps["substituted"].output),
                                                                       maps["substituted"]),
               "baseline θ̄": (fl.to_image(maps["baseline"].output), maps["baseline"])}
    fl.viz.plot_lam_panels(columns, p.scale, n, axes[2 * k:2 * k + 2])
    print(f"{n}, {D.input} input, box {box}: DI target {maps['target'].di:.2f}, substituted "
          f"{maps['substituted'].di:.2f}, baseline {maps['baseline'].di:.2f}")
fig.suptitle("Which input pixels the output box uses (LAM)")
fig.tight_layout()
lab.savefig(fig, "09_lam_teaser.png")

# %% [markdown]
# ## Every method's sets, on every input kind
# The diffusion index of the target and of the target with each method's top-`top_percent`% set of each
# degradation substituted, on the inputs of each degradation (one image, the same box).

# %%
p = lab.pair
inputs = {d: example(p, d) for d in p.degradations}
box = fl.central_box(next(iter(inputs.values())), p.scale, box_size)
sets = {m: {d: s.top(d, top_percent) for d in p.degradations} for m, s in lab.rankings[p.name].items()}
di = fl.substitution_di(p.baseline, p.target, sets, inputs, box, device=lab.device, **options)
fig, ax = plt.subplots(figsize=(9, 3.8))
fl.viz.plot_di_changes(di, f"{p.name}: DI change when each {top_percent:g}% set is substituted", ax)
fig.tight_layout()
lab.savefig(fig, "09_di_changes.png")
di.assign(method=di.method.map(fl.viz.method_label)).pivot_table(
    index=["method", "set"], columns="input", values="di_substituted", sort=False).round(2)

# %%
# NBVAL_CHECK_OUTPUT
claims = fl.Claims(p.name)
for d in p.degradations:
    D = fl.degradation(d)
    own = di[(di.method == "faig") & (di.set == d)].set_index("input").change
    others = own.drop(d)
    claims.add(f"substituting FAIG's {D.function} set shrinks the area used on {D.input} inputs (DI falls)",
               own[d] < 0, f"{own[d]:+.2f}", f"the {D.function} filters do not widen what the network looks at")
    worst = others.abs().idxmax()
    claims.add(f"… more than it changes DI on {fl.degradation(worst).input} inputs", abs(own[d]) > abs(others[worst]),
               f"{own[d]:+.2f} vs {others[worst]:+.2f}", "in pixel space this set is not specific to its inputs")
    rivals = di[(di.set == d) & (di.input == d)].set_index("method").change
    best = rivals.drop("faig").abs().idxmax()
    claims.add(f"FAIG's {D.function} set moves DI on {D.input} inputs most of all methods",
               abs(rivals["faig"]) > abs(rivals[best]),
               f"FAIG {rivals['faig']:+.2f} vs {fl.viz.method_label(best)} {rivals[best]:+.2f}",
               f"{fl.viz.method_label(best)}'s set moves it more")
for n, (d, maps) in teaser.items():
    D = fl.degradation(d)
    change = maps["substituted"].di - maps["target"].di
    claims.add(f"the {D.function} set moves DI toward the baseline's on {D.input} inputs",
               abs(maps["baseline"].di - maps["substituted"].di) < abs(maps["baseline"].di - maps["target"].di),
               f"target {maps['target'].di:.2f} → {maps['substituted'].di:.2f} ({change:+.2f}), baseline "
               f"{maps['baseline'].di:.2f}", "substituting the set does not bring the map closer to the baseline's",
               subject=n)
claims.show()

# %% [markdown]
# ## Pick a box
# Move the box over the output (in output pixels) and choose the model: the map is recomputed for it.
# (In a non-interactive run the picker renders once, with the central box.)

# %%
mod = fl.FilterModulator(p.baseline, p.target, device=lab.device)
h, w = (s * p.scale for s in inputs[p.degradations[0]].shape[-2:])
pick = {"x": widgets.IntSlider(box[0], 0, w - 2, description="x"),
        "y": widgets.IntSlider(box[1], 0, h - 2, description="y"),
        "size": widgets.IntSlider(box[2], 1, min(h, w) - 1, description="size"),
        "model": widgets.Dropdown(options=["target θ"] + [f"{fl.degradation(d).function} set substituted"
                                                         for d in p.degradations] + ["baseline θ̄"],
                                  description="model"),
        "input": widgets.Dropdown(options=p.degradations, description="input")}


def show(x, y, size, model, input):
    lr = inputs[input]
    size = max(1, min(size, w - 1 - x, h - 1 - y))
    if model == "target θ":
        fn = p.target
    elif model == "baseline θ̄":
        fn = p.baseline
    else:
        d = next(e for e in p.degradations if model.startswith(fl.degradation(e).function + " "))
        params = mod.substitute(sets["faig"][d])._params

        def fn(t, params=params):
            return mod.path(t, params)
    r = fl.local_attribution_map(fn, lr, (x, y, size), scale=p.scale, device=lab.device, **options)
    fig = fl.viz.plot_lam_panels({model: (fl.to_image(r.output), r)}, p.scale, "")
    fig.tight_layout()
    plt.show()
    plt.close(fig)


# the map for the default box is drawn in the cell's own output; the widgets redraw it into `out` when moved (an
# unattended run, papermill's or nbval's, never routes output through a widget)
out = widgets.Output()


def redraw(_change) -> None:
    with out:
        clear_output(wait=True)
        show(**{k: v.value for k, v in pick.items()})


for control in pick.values():
    control.observe(redraw, names="value")
display(widgets.VBox([widgets.HBox(list(pick.values())[:3]), widgets.HBox(list(pick.values())[3:]), out]))
show(**{k: v.value for k, v in pick.items()})
