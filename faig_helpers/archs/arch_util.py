"""Shared pieces of the architecture files (BasicSR's ``arch_util``): blocks, initialisation, and reading a state
dict's key layout."""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ArchitectureError

__all__ = ["only_keys", "block_count", "ResidualBlockNoBN", "default_init_weights"]


def default_init_weights(module: nn.Module, scale: float = 1.0) -> None:
    """BasicSR's ``default_init_weights`` for convs: Kaiming-normal weights × ``scale``, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
            m.weight.data.mul_(scale)
            nn.init.zeros_(m.bias)


class ResidualBlockNoBN(nn.Module):
    """x + res_scale · conv2(relu(conv1(x))), as BasicSR's ``ResidualBlockNoBN``."""

    def __init__(self, num_feat: int = 64, res_scale: float = 1.0) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(x)))
        return x + out if self.res_scale == 1 else x + out * self.res_scale


def only_keys(sd: Mapping[str, torch.Tensor], pattern: str) -> bool:
    """Whether every key of ``sd`` is ``pattern`` (a regex of the module path) + ``.weight``/``.bias``."""
    rx = re.compile(rf"(?:{pattern})\.(?:weight|bias)")
    return all(rx.fullmatch(k) for k in sd)


def block_count(sd: Mapping[str, torch.Tensor], pattern: str) -> int:
    """Number of blocks ``N`` with a key matching ``pattern`` (a regex with one group for N)."""
    found = {int(m.group(1)) for k in sd if (m := re.match(pattern, k))}
    if found and found != set(range(len(found))):
        raise ArchitectureError(f"blocks {sorted(set(range(max(found) + 1)) - found)[:3]} missing from "
                                f"the keys matching '{pattern}'")
    return len(found)
