"""Continuous modulation of the discovered filters with λ (paper supplementary Fig. 10–11).

The top-p% filters of one ranking become λ·θ + (1−λ)·θ̄ (λ = 1: the target; λ = 0: the
substituted model; λ > 1 extrapolates). :class:`ModulationPanel` caches one
:class:`~faig_helpers.substitution.FilterModulator` per network and the target's outputs, so a
slider move costs one forward pass.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .degradations import DatasetRoot
from .evaluation import restore_all
from .images import to_image
from .metrics import output_difference, psnr
from .substitution import FilterModulator, n_selected

__all__ = ["ModulationPanel", "lambda_sweep"]

_INPUT = {"blur": "blurry", "noise": "noisy"}


class ModulationPanel:
    """State and callback behind the λ widget; ``update`` is what the sliders call."""

    def __init__(self, baseline: nn.Module, target: nn.Module, rankings: Mapping[str, np.ndarray], data: DatasetRoot):
        self.mod = FilterModulator(baseline, target)
        self.rankings, self.data = rankings, data
        self._target_out: dict[tuple[str, int], torch.Tensor] = {}

    def target_output(self, degradation: str, image: int) -> torch.Tensor:
        key = (degradation, image)
        if key not in self._target_out:
            self._target_out[key] = self.mod.reset()(getattr(self.data, degradation)[image])
        return self._target_out[key]

    def update(self, lam: float, degradation: str = "blur", proportion: float = 1.0, image: int = 0) -> dict:
        """Modulate the top-``proportion``% ``degradation`` filters by λ and restore image ``image``
        degraded the same way. Returns the images (HWC) and the numbers shown in the panel."""
        x = getattr(self.data, degradation)[image]
        target = self.target_output(degradation, image)
        k = n_selected(len(self.mod.index), proportion)
        out = self.mod.set(self.rankings[degradation][:k], lam)(x)
        gt = self.data.gt[image]
        return dict(input=to_image(torch.nn.functional.interpolate(x, scale_factor=out.shape[-1] // x.shape[-1])),
                    output=to_image(out), target=to_image(target), output_tensor=out, filters=k,
                    psnr=psnr(out, gt, 2), psnr_target=psnr(target, gt, 2),
                    difference=float(output_difference(out, target)[0]))

    def widget(self, proportions: Sequence[float] = (0.5, 1, 3, 5, 10)):
        """ipywidgets panel: λ slider, filter set, proportion and image; returns the VBox."""
        import ipywidgets as w
        import matplotlib.pyplot as plt

        lam = w.FloatSlider(value=1.0, min=0.0, max=1.5, step=0.1, description="λ", continuous_update=False)
        deg = w.ToggleButtons(options=[("deblur filters (blurry input)", "blur"), ("denoise filters (noisy input)", "noise")])
        prop = w.SelectionSlider(options=list(proportions), value=1 if 1 in proportions else proportions[0],
                                 description="top %")
        img = w.Dropdown(options=[(n, i) for i, n in enumerate(self.data.names)], description="image")
        out = w.Output()

        def draw(lam, degradation, proportion, image):
            r = self.update(lam, degradation, proportion, image)
            with out:
                out.clear_output(wait=True)
                fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
                for ax, key, title in zip(axes, ("input", "output", "target"),
                                          (f"{_INPUT[degradation]} input", f"λ = {lam:.1f}: {r['psnr']:.2f} dB",
                                           f"target (λ = 1): {r['psnr_target']:.2f} dB")):
                    ax.imshow(r[key], interpolation="nearest"); ax.set_title(title); ax.axis("off")
                fig.suptitle(f"top {proportion}% ({r['filters']} filters); output difference {r['difference']:.3f}")
                plt.show()

        ui = w.interactive_output(draw, dict(lam=lam, degradation=deg, proportion=prop, image=img))
        return w.VBox([w.HBox([lam, prop, img]), deg, out, ui])


def lambda_sweep(panel: ModulationPanel, lambdas: Sequence[float], proportion: float = 1.0, image: int = 0
                 ) -> tuple[pd.DataFrame, dict[str, list[np.ndarray]]]:
    """For each filter set and λ: PSNR and output difference to the target on both inputs (averaged
    over images, which are restored as one batch), plus the example image restored at each λ."""
    data, mod = panel.data, panel.mod
    k = n_selected(len(mod.index), proportion)
    inputs = {inp: getattr(data, inp) for inp in ("blur", "noise")}
    ref = {inp: restore_all(mod.reset(), xs) for inp, xs in inputs.items()}
    rows, grids = [], {"blur": [], "noise": []}
    for deg in ("blur", "noise"):
        for lam in lambdas:
            mod.set(panel.rankings[deg][:k], lam)
            for inp, xs in inputs.items():
                outs = restore_all(mod, xs)
                rows.append(dict(filters=deg, lam=float(lam), input=_INPUT[inp],
                                 psnr=float(np.mean([psnr(o, g, 2) for o, g in zip(outs, data.gt)])),
                                 output_difference=float(np.mean([output_difference(o, r)[0]
                                                                  for o, r in zip(outs, ref[inp])]))))
                if inp == deg:
                    grids[deg].append(to_image(outs[image]))
    mod.reset()
    return pd.DataFrame(rows), grids
