"""Checkpoints in BasicSR format.

Accepted: ``{'params_ema': sd}`` (preferred), ``{'params': sd}``, or a bare state dict; a
``module.`` prefix (DataParallel) is stripped. Saved as ``{'params_ema': sd}`` (plus ``params``
when given), written atomically.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from .archs import ArchitectureError, build_from_state_dict, describe
from .io_utils import atomic_path
from .errors import CheckpointError

__all__ = ["CheckpointError", "load_state_dict", "load_model", "load_pair", "save_checkpoint",
           "check_pair"]



def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a BasicSR checkpoint and return its state dict (``params_ema`` > ``params`` > bare)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a non-checkpoint file
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:120]})") from None
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: expected a dict, found {type(obj).__name__}")
    for key in ("params_ema", "params", "state_dict"):
        if key in obj:
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected 'params_ema', 'params' or a bare state dict of tensors; "
                              f"top-level keys are {list(obj)[:5] if isinstance(obj, Mapping) else obj}")
    for k, v in obj.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            raise CheckpointError(f"{path}: '{k}' holds {bad} non-finite value{'s' * (bad > 1)} (NaN/Inf)")
    return {k.removeprefix("module."): v.float() if v.is_floating_point() else v for k, v in obj.items()}


def load_model(path: str | os.PathLike) -> nn.Module:
    """Load a checkpoint and build the network it describes (architecture inferred)."""
    sd = load_state_dict(path)
    try:
        return build_from_state_dict(sd)
    except ArchitectureError as e:
        raise CheckpointError(f"{path}: {e}") from None


def check_pair(baseline: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
               names: tuple[str, str] = ("baseline", "target")) -> None:
    """Raise :class:`CheckpointError` naming the first key or shape where the two differ."""
    kb, kt = list(baseline), list(target)
    for i, (a, b) in enumerate(zip(kb, kt)):
        if a != b:
            raise CheckpointError(f"{names[0]} and {names[1]} do not match: key #{i} is '{a}' vs '{b}'")
        if baseline[a].shape != target[b].shape:
            raise CheckpointError(f"{names[0]} and {names[1]} do not match: '{a}' has shape "
                                  f"{tuple(baseline[a].shape)} vs {tuple(target[b].shape)}")
    if len(kb) != len(kt):
        extra = (kb if len(kb) > len(kt) else kt)[min(len(kb), len(kt))]
        raise CheckpointError(f"{names[0]} and {names[1]} do not match: {len(kb)} vs {len(kt)} tensors "
                              f"(first unmatched key '{extra}')")


def load_pair(baseline_path: str | os.PathLike, target_path: str | os.PathLike
              ) -> tuple[nn.Module, nn.Module]:
    """Load baseline θ̄ and target θ, checking they are the same architecture."""
    sb, st = load_state_dict(baseline_path), load_state_dict(target_path)
    check_pair(sb, st, (str(baseline_path), str(target_path)))
    return load_model(baseline_path), load_model(target_path)


def save_checkpoint(path: str | os.PathLike, params_ema: Mapping[str, torch.Tensor],
                    params: Mapping[str, torch.Tensor] | None = None) -> Path:
    """Save in BasicSR format, atomically; ``describe`` must accept the state dict."""
    describe(params_ema)
    obj = {"params_ema": {k: v.detach().cpu().clone() for k, v in params_ema.items()}}
    if params is not None:
        obj["params"] = {k: v.detach().cpu().clone() for k, v in params.items()}
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)
