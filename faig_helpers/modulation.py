"""Continuous modulation of the discovered filters with λ (paper supplementary Fig. 10–11).

The top-p% filters of one ranking become λ·θ + (1−λ)·θ̄ (λ = 1: the target; λ = 0: the
substituted model; λ > 1 extrapolates). :class:`ModulationPanel` keeps one
:class:`~faig_helpers.substitution.FilterModulator` and the target's outputs, so a slider move
costs one forward pass on one (cropped) image.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .attribution import FilterScores
from .degradations import DEGRADATIONS, DatasetRoot
from .evaluation import restore_all
from .filters import top_count
from .images import to_image, to_uint8
from .metrics import colour_shift, output_difference, psnr

__all__ = ["ModulationPanel", "lambda_sweep", "crop_box", "upscale_input"]


def crop_box(shape: Sequence[int], size: int | None, centre: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a ``size``×``size`` window of an image of ``shape`` (…, H, W), centred at
    the relative position ``centre`` and kept inside the image; the whole image when ``size`` is None."""
    h, w = int(shape[-2]), int(shape[-1])
    if size is None or (size >= h and size >= w):
        return 0, 0, h, w
    ch, cw = min(size, h), min(size, w)
    top = int(np.clip(round(centre[0] * h - ch / 2), 0, h - ch))
    left = int(np.clip(round(centre[1] * w - cw / 2), 0, w - cw))
    return top, left, ch, cw


def upscale_input(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour ×scale view of an LR input, for showing it beside the outputs."""
    return F.interpolate(x, scale_factor=scale, mode="nearest")


class ModulationPanel:
    """State and callback behind the λ widget; ``update`` is what the controls call.

    ``crop``: LR pixels of the window shown (the whole image when None), so large images stay fast.
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, scores: FilterScores, data: DatasetRoot,
                 crop: int | None = 96):
        from .substitution import FilterModulator

        self.baseline, self.target = baseline, target
        self.mod = FilterModulator(baseline, target)
        self.scores = scores
        self.data, self.crop = data, crop
        self._target_out: dict[tuple[str, int], torch.Tensor] = {}

    @classmethod
    def from_files(cls, baseline_path: str | os.PathLike, target_path: str | os.PathLike,
                   dataset_root: str | os.PathLike, *, results: str | os.PathLike, net: str, dataset: str,
                   method: str = "faig", n_steps: int | None = None, quadrature: str | None = None,
                   crop: int | None = 96) -> "ModulationPanel":
        """Load a pair and a dataset root, rank the filters with ``method`` (reusing saved rankings, see
        :func:`~faig_helpers.rankings.rank_all`) and build the panel."""
        from .checkpoint import load_pair
        from .degradations import load_dataset
        from .rankings import rank_all

        data = load_dataset(dataset_root)
        baseline, target = load_pair(baseline_path, target_path)
        scores = rank_all(baseline, target, data, results=results, net=net, dataset=dataset, methods=[method],
                          n_steps=n_steps, quadrature=quadrature, progress=False)[method]
        return cls(baseline, target, scores, data, crop)

    def input(self, degradation: str, image: int) -> torch.Tensor:
        x = getattr(self.data, degradation)[image]
        t, l, h, w = crop_box(x.shape, self.crop)
        return x[..., t:t + h, l:l + w]

    def ground_truth(self, degradation: str, image: int) -> torch.Tensor:
        x, s = getattr(self.data, degradation)[image], self.data.scale
        t, l, h, w = crop_box(x.shape, self.crop)
        return self.data.gt[image][..., s * t:s * (t + h), s * l:s * (l + w)]

    def target_output(self, degradation: str, image: int) -> torch.Tensor:
        key = (degradation, image)
        if key not in self._target_out:
            self._target_out[key] = self.mod.reset()(self.input(degradation, image))
        return self._target_out[key]

    def update(self, lam: float, degradation: str = "blur", proportion: float = 1.0, image: int = 0) -> dict:
        """Modulate the top-``proportion``% ``degradation`` filters by λ and restore image ``image``
        degraded the same way. Returns the images (HWC) and the numbers shown in the panel."""
        x = self.input(degradation, image)
        target = self.target_output(degradation, image)
        idx = self.scores.top(degradation, proportion)
        out = self.mod.set(idx, lam)(x)
        gt, s = self.ground_truth(degradation, image), self.data.scale
        return dict(input=to_image(upscale_input(x, s)), output=to_image(out), target=to_image(target),
                    output_tensor=out, filters=len(idx), psnr=psnr(out, gt, s), psnr_target=psnr(target, gt, s),
                    difference=float(output_difference(out, target)[0]), colour_shift=float(colour_shift(out, target)[0]))

    def widget(self, proportions: Sequence[float] = (0.5, 1, 3, 5, 10)):
        """ipywidgets panel: λ slider, filter set, proportion and image; images are shown as PNG image
        widgets updated in place (no figure is redrawn). Returns the VBox."""
        import cv2
        import ipywidgets as w

        lam = w.FloatSlider(value=1.0, min=0.0, max=1.5, step=0.1, description="λ", continuous_update=True,
                            readout_format=".1f")
        deg = w.ToggleButtons(options=[(f"{d.function} filters · {d.input} input", d.name) for d in DEGRADATIONS.values()],
                              style={"button_width": "auto"}, description="filter set")
        prop = w.SelectionSlider(options=list(proportions), value=1 if 1 in proportions else proportions[0],
                                 description="top %", continuous_update=False)
        img = w.Dropdown(options=[(n, i) for i, n in enumerate(self.data.names)], description="image")
        views = {k: w.Image(format="png", layout=w.Layout(width="100%")) for k in ("input", "output", "target")}
        captions = {k: w.HTML() for k in views}
        status = w.HTML()

        def png(a: np.ndarray) -> bytes:
            return cv2.imencode(".png", np.ascontiguousarray(to_uint8(a)[..., ::-1]))[1].tobytes()

        def draw(*_):
            d = DEGRADATIONS[deg.value]
            r = self.update(lam.value, d.name, prop.value, img.value)
            for k in views:
                views[k].value = png(r[k])
            captions["input"].value = f"<b>{d.input} input</b> (nearest ×{self.data.scale})"
            captions["output"].value = f"<b>λ = {lam.value:.1f}</b>: {r['psnr']:.2f} dB"
            captions["target"].value = f"<b>target (λ = 1)</b>: {r['psnr_target']:.2f} dB"
            status.value = (f"top {prop.value:g}% {d.function} filters ({r['filters']} of {len(self.mod.index)}); "
                            f"output difference to the target {r['difference']:.3f}, colour shift "
                            f"{r['colour_shift']:.1f} levels")

        for c in (lam, deg, prop, img):
            c.observe(draw, names="value")
        draw()
        cols = [w.VBox([views[k], captions[k]], layout=w.Layout(width="32%")) for k in views]
        return w.VBox([w.HBox([lam, prop, img]), deg, w.HBox(cols), status])


def lambda_sweep(panel: ModulationPanel, lambdas: Sequence[float], proportion: float = 1.0, image: int = 0
                 ) -> tuple[pd.DataFrame, dict[str, list[np.ndarray]]]:
    """For each filter set and λ: PSNR, output difference and colour shift to the target on both
    inputs (averaged over images), plus the example image (the panel's crop) restored at each λ."""
    data, mod = panel.data, panel.mod
    inputs = {d.name: getattr(data, d.name) for d in DEGRADATIONS.values()}
    ref = {inp: restore_all(mod.reset(), xs) for inp, xs in inputs.items()}
    rows, grids = [], {d: [] for d in DEGRADATIONS}
    for deg in DEGRADATIONS:
        idx = panel.scores.top(deg, proportion)
        for lam in lambdas:
            mod.set(idx, lam)
            for inp, xs in inputs.items():
                outs = restore_all(mod, xs)
                rows.append(dict(filters=deg, lam=float(lam), input=DEGRADATIONS[inp].input,
                                 psnr=float(np.mean([psnr(o, g, data.scale) for o, g in zip(outs, data.gt)])),
                                 output_difference=float(np.mean([output_difference(o, r)[0]
                                                                  for o, r in zip(outs, ref[inp])])),
                                 colour_shift=float(np.mean([colour_shift(o, r)[0] for o, r in zip(outs, ref[inp])]))))
            grids[deg].append(to_image(mod(panel.input(deg, image))))
    mod.reset()
    return pd.DataFrame(rows), grids
