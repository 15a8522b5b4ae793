"""Restoring evaluation inputs and the PSNR table of a model pair."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import torch
from torch import nn

from .degradations import CLEAN, DEGRADATIONS, DatasetRoot
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


def psnr_table(models: Mapping[str, nn.Module], data: DatasetRoot) -> pd.DataFrame:
    """Mean PSNR (dB, RGB, a border of ``data.scale`` pixels cropped) per model (rows) and input
    (columns 'clean', 'blurry', 'noisy'; the inputs that were loaded)."""
    rows = []
    for name, model in models.items():
        row = {"model": name}
        for d in (CLEAN, *DEGRADATIONS.values()):
            xs = getattr(data, d.name)
            if xs:
                outs = restore_all(model, xs)
                row[d.input] = sum(psnr(o, g, data.scale) for o, g in zip(outs, data.gt)) / len(data)
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
