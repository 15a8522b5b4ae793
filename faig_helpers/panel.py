"""The λ panel: ipywidgets controls over one :class:`~faig_helpers.modulation.FilterModulator`.

The top-p% filters of one degradation's set become λ·θ + (1−λ)·θ̄ (or, in DNI mode, every parameter);
the panel keeps the target's outputs, so a slider move costs one forward pass on one (cropped) image.
Its export button writes the model on screen as a BasicSR checkpoint.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .degradations import DatasetRoot, degradation
from .errors import ConfigError
from .images import crop, crop_box, to_image, to_uint8, upscale_nearest
from .metrics import measure, psnr
from .methods import FilterScores
from .modulation import FilterModulator, dni_state_dict, modulated_state_dict

#: what the panel modulates: the top-p% filters of one set (FAIG), or the whole network (DNI)
MODES = ("faig", "dni")

__all__ = ["ModulationPanel", "MODES"]


class ModulationPanel:
    """State and callback behind the λ widget; ``update`` is what the controls call.

    ``crop``: LR pixels of the window shown (the whole image when None), so large images stay fast;
    ``export_dir``: where the export button writes (None: the results folder's ``models/``); ``name``: the
    exported files' prefix (e.g. the pair's name).
    """

    def __init__(self, baseline: nn.Module, target: nn.Module, scores: FilterScores, data: DatasetRoot, *,
                 crop: int | None = 96, device: str | torch.device | None = None,
                 export_dir: str | os.PathLike | None = None, name: str = "model"):
        self.baseline, self.target = baseline, target
        self.mod = FilterModulator(baseline, target, device=device)
        self.scores, self.data, self.crop = scores, data, crop
        self.export_dir, self.name = export_dir, name
        self.degradations = [d for d in data.degradations if d in scores.scores]
        self._target_out: dict[tuple[str, int], torch.Tensor] = {}

    def _box(self, degradation_name: str, image: int) -> tuple[int, int, int, int]:
        return crop_box(self.data[degradation_name][image].shape, self.crop)

    def input(self, degradation_name: str, image: int) -> torch.Tensor:
        """The (cropped) LR input of one degradation."""
        return crop(self.data[degradation_name][image], self._box(degradation_name, image))

    def ground_truth(self, degradation_name: str, image: int) -> torch.Tensor:
        """The HR region of that input."""
        return crop(self.data.gt[image], self._box(degradation_name, image), self.data.scale)

    def target_output(self, degradation_name: str, image: int) -> torch.Tensor:
        key = (degradation_name, image)
        if key not in self._target_out:
            self._target_out[key] = self.mod.reset()(self.input(degradation_name, image))
        return self._target_out[key]

    def update(self, lam: float, degradation_name: str | None = None, proportion: float = 1.0, image: int = 0,
               mode: str = "faig") -> dict:
        """Modulate the top-``proportion``% filters of one degradation by λ (``mode='dni'``: every parameter)
        and restore image ``image`` degraded the same way. Returns the images (HWC) and the numbers shown."""
        d = degradation_name or self.degradations[0]
        x, target = self.input(d, image), self.target_output(d, image)
        if _mode(mode) == "dni":
            idx = np.arange(len(self.mod.index))
            out = self.mod.dni(lam)(x)
        else:
            idx = self.scores.top(d, proportion)
            out = self.mod.modulate(idx, lam)(x)
        gt, s = self.ground_truth(d, image), self.data.scale
        m = measure([out], [target], [gt], s)
        return dict(input=to_image(upscale_nearest(x, s)), output=to_image(out), target=to_image(target),
                    output_tensor=out, filters=len(idx), psnr=m["psnr"], psnr_target=psnr(target, gt, s),
                    difference=m["output_difference"], colour_shift=m["colour_shift"])

    def state_dict(self, lam: float, degradation_name: str | None = None, proportion: float = 1.0,
                   mode: str = "faig") -> dict[str, torch.Tensor]:
        """The model :meth:`update` shows, as a state dict of the target's keys (buffers included)."""
        sb, st = self.baseline.state_dict(), self.target.state_dict()
        if _mode(mode) == "dni":
            return dni_state_dict(sb, st, lam)
        d = degradation_name or self.degradations[0]
        return modulated_state_dict(sb, st, self.scores.top(d, proportion), lam, self.mod.index)

    def export(self, lam: float, degradation_name: str | None = None, proportion: float = 1.0, mode: str = "faig",
               folder: str | os.PathLike | None = None) -> Path:
        """Write that model as a BasicSR checkpoint (``params_ema`` + ``params``) into ``folder`` (None: the
        panel's ``export_dir``, else the results folder's ``models/``):
        ``{name}_{D}_top{p}pct_lambda{λ}.pth``, or ``{name}_dni_lambda{λ}.pth``. Returns the path."""
        from .checkpoint import save_checkpoint
        from .layout import Layout, output_dirs

        d = degradation_name or self.degradations[0]
        folder = Path(folder if folder is not None else self.export_dir if self.export_dir is not None
                      else Layout(output_dirs()[0]).models)
        what = "dni" if _mode(mode) == "dni" else f"{d}_top{proportion:g}pct"
        sd = self.state_dict(lam, d, proportion, mode)
        return save_checkpoint(folder / f"{self.name}_{what}_lambda{lam:.2f}.pth", sd, sd)

    def widget(self, proportions: Sequence[float] = (0.5, 1, 3, 5, 10)):
        """ipywidgets panel: λ slider, filter set, proportion and image; images are shown as PNG image
        widgets updated in place (no figure is redrawn). Returns the VBox."""
        import cv2
        import ipywidgets as w

        lam = w.FloatSlider(value=1.0, min=0.0, max=1.5, step=0.1, description="λ", continuous_update=True,
                            readout_format=".1f")
        deg = w.ToggleButtons(options=[(f"{degradation(d).function} filters · {degradation(d).input} input", d)
                                       for d in self.degradations],
                              style={"button_width": "auto"}, description="filter set")
        prop = w.SelectionSlider(options=list(proportions), value=1 if 1 in proportions else proportions[0],
                                 description="top %", continuous_update=False)
        img = w.Dropdown(options=[(n, i) for i, n in enumerate(self.data.names)], description="image")
        mode = w.ToggleButtons(options=[("top-p% filters (FAIG)", "faig"), ("whole network (DNI)", "dni")],
                               style={"button_width": "auto"}, description="modulate")
        export = w.Button(description="export model", icon="download",
                          tooltip="write the model shown as a BasicSR checkpoint (params_ema + params)")
        exported = w.HTML()
        views = {k: w.Image(format="png", layout=w.Layout(width="100%")) for k in ("input", "output", "target")}
        captions = {k: w.HTML() for k in views}
        status = w.HTML()

        def png(a: np.ndarray) -> bytes:
            return cv2.imencode(".png", np.ascontiguousarray(to_uint8(a)[..., ::-1]))[1].tobytes()

        def draw(*_):
            d = degradation(deg.value)
            r = self.update(lam.value, deg.value, prop.value, img.value, mode.value)
            for k in views:
                views[k].value = png(r[k])
            captions["input"].value = f"<b>{d.input} input</b> (nearest ×{self.data.scale})"
            captions["output"].value = f"<b>λ = {lam.value:.1f}</b>: {r['psnr']:.2f} dB"
            captions["target"].value = f"<b>target (λ = 1)</b>: {r['psnr_target']:.2f} dB"
            which = "every parameter (DNI)" if mode.value == "dni" else \
                f"top {prop.value:g}% {d.function} filters ({r['filters']} of {len(self.mod.index)})"
            status.value = (f"{which}; output difference to the target {r['difference']:.3f}, colour shift "
                            f"{r['colour_shift']:.1f} levels")

        def save(*_):
            path = self.export(lam.value, deg.value, prop.value, mode.value)
            exported.value = f"written: <code>{path}</code>"

        for c in (lam, deg, prop, img, mode):
            c.observe(draw, names="value")
        export.on_click(save)
        draw()
        cols = [w.VBox([views[k], captions[k]], layout=w.Layout(width="32%")) for k in views]
        return w.VBox([w.HBox([lam, prop, img]), deg, w.HBox(cols), status, w.HBox([mode, export, exported])])


def _mode(mode: str) -> str:
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, got '{mode}'")
    return mode
