"""Shared helpers of the architecture files: reading a state dict's key layout."""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from ..errors import ArchitectureError

__all__ = ["only_keys", "block_count"]


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
