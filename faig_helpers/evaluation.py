"""Restoring evaluation inputs and the quality table of model pairs (PSNR / SSIM as the field reports
them: a border of ``scale`` pixels cropped, on RGB or on BasicSR's Y channel)."""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import pandas as pd
import torch
from torch import nn

from .degradations import DatasetRoot, degradation
from .metrics import psnr, ssim

__all__ = ["restore_all", "quality_table"]


def restore_all(fn, xs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Apply ``fn`` (a model or modulator) to a list of (1, 3, h, w) inputs, in one batch when they
    share a size, returning a list of (1, 3, H, W) outputs on the CPU."""
    with torch.no_grad():
        if len({tuple(x.shape) for x in xs}) == 1:
            return list(fn(torch.cat(xs)).cpu().split(1))
        return [fn(x).cpu() for x in xs]


def _on(model: nn.Module, device: str | torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: model(x.to(device))


def quality_table(models: Mapping[str, nn.Module], data: DatasetRoot, metric: str = "psnr", y_channel: bool = False,
                  crop_border: int | None = None, device: str | torch.device | None = None) -> pd.DataFrame:
    """Mean PSNR (dB) or SSIM per model (rows) and input (columns: 'clean' when loaded, then each
    degradation's input name), a border of ``crop_border`` pixels cropped (None: the scale, as BasicSR's
    test options), on RGB or Y. ``table.attrs['metric']`` says which, e.g. 'PSNR (dB), RGB, border 2'."""
    fn = {"psnr": psnr, "ssim": ssim}[metric]
    border = data.scale if crop_border is None else crop_border
    rows = []
    for name, model in models.items():
        run = model if device is None else _on(copy.deepcopy(model).to(device), device)
        row = {"model": name}
        for d in (["clean"] if data.clean else []) + data.degradations:
            outs = restore_all(run, data[d])
            row["clean" if d == "clean" else degradation(d).input] = sum(
                fn(o, g, border, y_channel=y_channel) for o, g in zip(outs, data.gt)) / len(data)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    name = "PSNR (dB)" if metric == "psnr" else "SSIM"
    table.attrs["metric"] = f"{name}, {'Y' if y_channel else 'RGB'}, border {border}"
    return table
