"""The models a user already has: checkpoints in BasicSR format, ``.safetensors``, BasicSR experiment
folders, or ``nn.Module`` objects.

A *source* is one of

* a checkpoint file: ``.pth``/``.pt``/``.ckpt`` (``torch.load``, tensors only) or ``.safetensors``, holding
  ``{'params_ema': sd}`` (preferred), ``{'params': sd}`` or a bare state dict (``param_key`` picks one
  explicitly); a ``module.`` prefix (DataParallel) is stripped;
* a BasicSR experiment folder (``experiments/NAME/``): ``models/net_g_latest.pth``, else the highest iteration
  ``models/net_g_{iter}.pth``; the architecture from the options YAML's ``network_g`` when it names a
  built-in network;
* an ncnn model: its ``.param``, its ``.bin`` or their common stem (:mod:`~faig_helpers.ncnn`: the
  published weights, fp16 → fp32, in the PyTorch network the graph describes);
* a state dict (a mapping of tensors), or an ``nn.Module`` (used as it is, in eval mode).

The architecture is inferred from the keys and shapes unless ``arch`` (``{'type': 'RRDBNet', ...}``) is given.
Saved as ``{'params_ema': sd}`` (plus ``params`` when given), written atomically.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from .archs import ARCH_REGISTRY, ArchitectureError, build_from_state_dict
from .errors import CheckpointError
from .io_utils import atomic_path
from .ncnn import is_ncnn, load_ncnn, ncnn_state_dict

__all__ = ["CheckpointError", "load_state_dict", "load_model", "load_pair", "save_checkpoint", "check_pair",
           "experiment_checkpoint", "experiment_network", "PARAM_KEYS"]

#: the keys a checkpoint may keep its state dict under, in order of preference (then a bare state dict)
PARAM_KEYS = ("params_ema", "params", "state_dict")
Source = str | os.PathLike | nn.Module | Mapping


def _first_line(e: BaseException, n: int = 120) -> str:
    return str(e).splitlines()[0][:n] if str(e) else ""


def experiment_checkpoint(folder: str | os.PathLike) -> Path:
    """The generator checkpoint of a BasicSR experiment folder: ``models/net_g_latest.pth``, else the
    highest iteration ``models/net_g_{iter}.pth``."""
    folder = Path(folder)
    models = folder / "models" if (folder / "models").is_dir() else folder
    if (models / "net_g_latest.pth").is_file():
        return models / "net_g_latest.pth"
    iters = [(int(m.group(1)), p) for p in models.glob("net_g_*.pth")
             if (m := re.fullmatch(r"net_g_(\d+)\.pth", p.name))]
    if not iters:
        raise CheckpointError(f"{folder}: no models/net_g_latest.pth or models/net_g_{{iter}}.pth: not a BasicSR "
                              "experiment folder")
    return max(iters)[1]


def experiment_network(folder: str | os.PathLike) -> dict | None:
    """The ``network_g`` spec of a BasicSR experiment's options YAML (the folder's ``*.yml``), or None."""
    import yaml

    for opt in sorted(Path(folder).glob("*.y*ml")):
        try:
            doc = yaml.safe_load(opt.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise CheckpointError(f"{opt}: unreadable options YAML ({type(e).__name__}: {_first_line(e)})") from None
        net = doc.get("network_g") if isinstance(doc, Mapping) else None
        if isinstance(net, Mapping):
            if "type" not in net:
                raise CheckpointError(f"{opt}: 'network_g' has no 'type'")
            return dict(net)
    return None


def _read(path: Path) -> object:
    if path.suffix.lower() == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise CheckpointError(f"{path}: reading .safetensors needs the safetensors package "
                                  "(pip install safetensors)") from None
        try:
            return load_file(str(path), device="cpu")
        except Exception as e:
            raise CheckpointError(f"{path}: not a safetensors file ({type(e).__name__}: {_first_line(e)})") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a non-checkpoint file
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({type(e).__name__}: {_first_line(e)})") from None


def _is_state_dict(obj: object) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def _clean(sd: Mapping[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    for k, v in sd.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            raise CheckpointError(f"{where}: '{k}' holds {bad} non-finite value{'s' * (bad > 1)} (NaN/Inf)")
    return {k.removeprefix("module."): v.float() if v.is_floating_point() else v for k, v in sd.items()}


def load_state_dict(path: str | os.PathLike, param_key: str | None = None) -> dict[str, torch.Tensor]:
    """Read a checkpoint (or a BasicSR experiment folder's) and return its state dict: ``param_key`` when
    given, else ``params_ema`` > ``params`` > ``state_dict`` > the bare dict; ``module.`` stripped, floats as
    float32."""
    if is_ncnn(path):
        return ncnn_state_dict(path)[0]
    path = Path(path)
    if path.is_dir():
        path = experiment_checkpoint(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    obj = _read(path)
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: expected a dict, found {type(obj).__name__}")
    if param_key is not None:
        if param_key not in obj:
            raise CheckpointError(f"{path}: no '{param_key}' in the checkpoint (top-level keys: {list(obj)[:5]})")
        obj = obj[param_key]
    elif not _is_state_dict(obj):
        obj = next((obj[k] for k in PARAM_KEYS if k in obj), obj)
    if not _is_state_dict(obj):
        raise CheckpointError(f"{path}: expected 'params_ema', 'params' or a bare state dict of tensors; "
                              f"top-level keys are {list(obj)[:5] if isinstance(obj, Mapping) else obj}")
    return _clean(obj, str(path))


def _spec(arch: Mapping | str | None) -> Mapping | None:
    return {"type": arch} if isinstance(arch, str) else arch


def load_model(source: Source, *, arch: Mapping | str | None = None, param_key: str | None = None) -> nn.Module:
    """The network of a source (see the module docstring), weights loaded strictly, eval mode. ``arch``: the
    architecture (``{'type': 'RRDBNet', ...}`` or a name) instead of inferring it; ``param_key``: which
    state dict of the checkpoint."""
    if isinstance(source, nn.Module):
        return source.eval()
    if is_ncnn(source):
        return load_ncnn(source, _spec(arch))
    where = "state dict"
    if isinstance(source, Mapping):
        sd = _clean(source, where)
    else:
        path = Path(source)
        where = str(path)
        if path.is_dir():
            ckpt = experiment_checkpoint(path)
            where = f"{ckpt}"
            if arch is None:
                net = experiment_network(path)
                arch = net if net is not None and net["type"] in ARCH_REGISTRY else None
        sd = load_state_dict(path, param_key)
    try:
        return build_from_state_dict(sd, _spec(arch))
    except ArchitectureError as e:
        raise CheckpointError(f"{where}: {e}") from None


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


def _name(source: Source, default: str) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else default


def load_pair(baseline: Source, target: Source, *, arch: Mapping | str | None = None,
              param_key: str | None = None) -> tuple[nn.Module, nn.Module]:
    """Baseline θ̄ and target θ (each any source), checked to be the same network: a mismatch names the
    first differing key or shape."""
    names = (_name(baseline, "baseline"), _name(target, "target"))
    mb = load_model(baseline, arch=arch, param_key=param_key)
    mt = load_model(target, arch=arch, param_key=param_key)
    check_pair(mb.state_dict(), mt.state_dict(), names)
    if type(mb).__name__ != type(mt).__name__:
        raise CheckpointError(f"{names[0]} and {names[1]} do not match: {type(mb).__name__} vs {type(mt).__name__}")
    return mb, mt


def save_checkpoint(path: str | os.PathLike, params_ema: Mapping[str, torch.Tensor] | nn.Module,
                    params: Mapping[str, torch.Tensor] | nn.Module | None = None) -> Path:
    """Save in BasicSR format (``params_ema`` and, when given, ``params``), atomically. Any module's state
    dict (or the module) can be saved."""
    def tensors(sd, what: str) -> dict[str, torch.Tensor]:
        sd = sd.state_dict() if isinstance(sd, nn.Module) else sd
        if not _is_state_dict(sd):
            raise CheckpointError(f"{path}: {what} must be a non-empty state dict of tensors")
        return {k: v.detach().cpu().clone() for k, v in sd.items()}

    obj = {"params_ema": tensors(params_ema, "params_ema")}
    if params is not None:
        obj["params"] = tensors(params, "params")
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)
