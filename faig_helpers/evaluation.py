"""Restoring evaluation inputs and the PSNR table of a model pair."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import torch
from torch import nn

from .degradations import DatasetRoot
from .metrics import psnr

__all__ = ["restore_all", "psnr_table"]


def restore_all(fn, xs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Apply ``fn`` (a model or modulator) to a list of (1, 3, h, w) inputs, in one batch when they
    share a size, returning a list of (1, 3, H, W) outputs."""
    if len({tuple(x.shape) for x in xs}) == 1:
        with torch.no_grad():
            return list(fn(torch.cat(xs)).split(1))
    with torch.no_grad():
        return [fn(x) for x in xs]


def psnr_table(models: Mapping[str, nn.Module], data: DatasetRoot, scale: int = 2) -> pd.DataFrame:
    """Mean PSNR (dB, RGB, border of ``scale`` pixels cropped) per model and input kind."""
    rows = []
    for name, model in models.items():
        row = {"model": name}
        for kind in ("clean", "blur", "noise"):
            outs = restore_all(model, getattr(data, kind))
            row[kind] = sum(psnr(o, g, scale) for o, g in zip(outs, data.gt)) / len(data)
        rows.append(row)
    return pd.DataFrame(rows).set_index("model").rename(columns={"clean": "clean", "blur": "blurry", "noise": "noisy"})
