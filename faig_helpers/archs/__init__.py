"""Network definitions in BasicSR's style: a registry, one file per network, a spandrel fallback.

Built in, with the parameter names of the originals so their checkpoints load strictly:

* :class:`MSRResNet` (``msrresnet_arch``) and :class:`SRCNNStyle` (``srcnn_style_arch``): FAIG's two families;
* :class:`RRDBNet` (``rrdbnet_arch``): ESRGAN / Real-ESRGAN, BasicSR keys (older ESRGAN layouts converted);
* :class:`SRVGGNetCompact` (``srvgg_arch``): Real-ESRGAN's compact net;
* :class:`EDSR` (``edsr_arch``).

Anything else loads through spandrel (``faig-lab[spandrel]``, see :mod:`.spandrel_fallback`), or is passed as
an ``nn.Module``. A network spec is BasicSR's ``network_g`` dict: ``{'type': 'RRDBNet', **kwargs}``.

>>> sd = RRDBNet(num_feat=8, num_block=1, num_grow_ch=4).state_dict()
>>> spec = describe(sd)
>>> spec["type"], spec["num_feat"], spec["num_grow_ch"]
('RRDBNet', 8, 4)
>>> net = build_from_state_dict(sd)  # built, loaded strictly, eval mode
>>> model_scale(net)
4

A new network is one file with a class decorated by :func:`register_arch` (and a classmethod
``kwargs_from_state_dict(sd) -> dict | None`` so that its checkpoints are recognised), imported below.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..errors import ArchitectureError, ConfigError
from . import spandrel_fallback
from ..registry import Registry
from .registry import ARCH_REGISTRY, register_arch
from .arch_util import ResidualBlockNoBN
from .msrresnet_arch import MSRResNet
from .srcnn_style_arch import SRCNNStyle
from .rrdbnet_arch import RRDBNet
from .srvgg_arch import SRVGGNetCompact
from .edsr_arch import EDSR

__all__ = ["ARCH_REGISTRY", "Registry", "register_arch", "build_network", "describe",
           "build_from_state_dict", "load_into", "model_scale", "ArchitectureError", "MSRResNet", "SRCNNStyle",
           "RRDBNet", "SRVGGNetCompact", "EDSR", "ResidualBlockNoBN", "spandrel_fallback", "input_size_rule",
           "fit_crop"]


def _spec_type(spec: Mapping) -> tuple[str, dict]:
    kw = dict(spec)
    name = kw.pop("type", None)
    legacy = kw.pop("arch", None)  # the spec key before BasicSR's 'type'
    name = name or legacy
    if not isinstance(name, str):
        raise ArchitectureError(f"a network spec needs a 'type' (e.g. {{'type': 'RRDBNet', ...}}); got {dict(spec)}")
    return name, kw


def build_network(spec: Mapping) -> nn.Module:
    """A new network (random weights) from ``{'type': name, **constructor kwargs}`` — a built-in
    architecture, or a spandrel one by its id (``'SwinIR'``, ``'SPAN'``…) and hyper-parameters."""
    name, kw = _spec_type(spec)
    if name in ARCH_REGISTRY:
        try:
            return ARCH_REGISTRY[name](**kw)
        except TypeError as e:
            raise ArchitectureError(f"{name}: {e}") from None
    if spandrel_fallback.available():
        return spandrel_fallback.build(name, kw)
    raise ArchitectureError(f"no architecture named '{name}' (built in: {', '.join(ARCH_REGISTRY)}; "
                            f"{spandrel_fallback.unavailable_reason()})")


def _check_tensors(sd: Mapping) -> None:
    if not isinstance(sd, Mapping) or not sd:
        raise ArchitectureError("an empty state dict describes no network")
    bad = next((k for k, v in sd.items() if not isinstance(v, torch.Tensor)), None)
    if bad is not None:
        raise ArchitectureError(f"'{bad}' is a {type(sd[bad]).__name__}, not a tensor: not a state dict")


def _builtin(sd: Mapping[str, torch.Tensor]) -> dict | None:
    for name, cls in ARCH_REGISTRY.items():  # in the registry's order
        infer = getattr(cls, "kwargs_from_state_dict", None)
        kw = infer(sd) if infer is not None else None
        if kw is not None:
            return {"type": name, **kw}
    return None


def _unknown(sd: Mapping[str, torch.Tensor], spandrel_tried: bool) -> ArchitectureError:
    tried = ", ".join(ARCH_REGISTRY)
    tail = (f"and spandrel {spandrel_fallback.spandrel_version()}'s architectures" if spandrel_tried
            else f"({spandrel_fallback.unavailable_reason()})")
    return ArchitectureError(f"unknown architecture: first keys {list(sd)[:4]}; tried {tried} {tail}; pass the "
                             f"module itself or arch={{'type': ..., ...}}")


def describe(sd: Mapping[str, torch.Tensor]) -> dict:
    """``{'type': ..., **constructor kwargs}`` inferred from a state dict's keys and shapes: a built-in
    architecture first, else spandrel's (id and hyper-parameters). Unknown keys: :class:`ArchitectureError`
    naming the first keys and what was tried."""
    _check_tensors(sd)
    spec = _builtin(sd)
    if spec is not None:
        return spec
    if spandrel_fallback.available():
        spec = spandrel_fallback.describe(sd)
        if spec is not None:
            return spec
    raise _unknown(sd, spandrel_fallback.available())


def load_into(net: nn.Module, sd: Mapping[str, torch.Tensor], what: str = "state dict") -> nn.Module:
    """Load ``sd`` strictly into ``net`` (converted to the class's key layout when it has one), eval mode;
    a mismatch names the first missing, unexpected or differently shaped key."""
    convert = getattr(type(net), "convert_state_dict", None)
    if convert is not None:
        sd = convert(sd) or sd
    want = net.state_dict()
    missing = [k for k in want if k not in sd]
    unexpected = [k for k in sd if k not in want]
    shape = next((k for k in want if k in sd and tuple(sd[k].shape) != tuple(want[k].shape)), None)
    if missing or unexpected or shape:
        detail = (f"'{shape}' has shape {tuple(sd[shape].shape)}, the network {tuple(want[shape].shape)}" if shape
                  else f"missing {missing[:3]}, unexpected {unexpected[:3]}")
        raise ArchitectureError(f"{what} does not fit {type(net).__name__}: {detail}")
    net.load_state_dict(sd, strict=True)
    return net.eval()


def build_from_state_dict(sd: Mapping[str, torch.Tensor], arch: Mapping | None = None) -> nn.Module:
    """Build the network a state dict describes (or ``arch``, a spec) and load the weights strictly into it;
    eval mode. Built-in architectures first, then spandrel."""
    _check_tensors(sd)
    if arch is not None:
        return load_into(build_network(arch), sd, f"the state dict for {_spec_type(arch)[0]}")
    spec = _builtin(sd)
    if spec is not None:
        return load_into(build_network(spec), sd, f"the state dict for the inferred {spec['type']}")
    if not spandrel_fallback.available():
        raise _unknown(sd, False)
    if spandrel_fallback.detect(sd) is None:
        raise _unknown(sd, True)
    return spandrel_fallback.load(sd)


_SCALE_ATTRS = {MSRResNet: "upscale", SRCNNStyle: "upscale", SRVGGNetCompact: "upscale", EDSR: "upscale",
                RRDBNet: "scale"}


def model_scale(model: nn.Module, size: int = 16) -> int:
    """The network's upscaling factor: from a known attribute (built-ins, spandrel's ``faig_scale``), else one
    forward on a small (1, C, size, size) input, in eval mode and without changing the module."""
    if isinstance(getattr(model, "faig_scale", None), int):
        return model.faig_scale
    for cls, attr in _SCALE_ATTRS.items():
        if isinstance(model, cls):
            return int(getattr(model, attr))
    first = next((m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)
    channels = first.in_channels if isinstance(first, nn.Conv2d) else 3
    param = next(iter(model.parameters()), None)
    x = torch.rand(1, channels, size, size, generator=torch.Generator().manual_seed(0))
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            out = model(x.to(param.device if param is not None else "cpu"))
    except Exception as e:
        raise ArchitectureError(f"cannot tell the scale of {type(model).__name__}: a forward on a {size}×{size} "
                                f"input fails ({type(e).__name__}: {str(e).splitlines()[0][:100]})") from None
    finally:
        for m, mode in modes:
            m.training = mode
    if not isinstance(out, torch.Tensor) or out.ndim != 4 or out.shape[-1] % size or out.shape[-2] != out.shape[-1]:
        raise ArchitectureError(f"cannot tell the scale of {type(model).__name__}: a {size}×{size} input gives "
                                f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    return out.shape[-1] // size


#: input sizes a probe tries when a network states no size rule
_PROBE_SIZES = (1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 64, 96, 128)


def input_size_rule(model: nn.Module) -> tuple[int, int]:
    """(minimum, multiple_of) of the LR input sizes a network accepts: spandrel's stated size requirements
    (``model.faig_size``; Real-CUGAN: at least 32), else the smallest square size a no-grad forward accepts
    (a probe, remembered on the model), multiple 1."""
    rule = getattr(model, "faig_size", None)
    if rule is not None:
        return tuple(rule)
    first = next((m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)
    channels = first.in_channels if isinstance(first, nn.Conv2d) else 3
    param = next(iter(model.parameters()), None)
    modes = [(m, m.training) for m in model.modules()]
    found = _PROBE_SIZES[-1]
    try:
        model.eval()
        for size in _PROBE_SIZES:
            try:
                with torch.no_grad():
                    model(torch.zeros(1, channels, size, size, device=param.device if param is not None else "cpu"))
                found = size
                break
            except Exception:
                continue
    finally:
        for m, mode in modes:
            m.training = mode
    model.faig_size = (found, 1)
    return model.faig_size


def fit_crop(size: int | None, model: nn.Module, image_shape: tuple[int, ...] | None = None) -> int | None:
    """The crop size (LR pixels) to use for a requested ``size`` on ``model``: at least the network's minimum
    input and a multiple of its required multiple (:func:`input_size_rule`); None (whole images) stays None.
    With ``image_shape`` (…, H, W), at most the image's side; images smaller than the network's minimum are a
    :class:`ConfigError`."""
    minimum, multiple = input_size_rule(model)
    least = -(-minimum // multiple) * multiple
    if image_shape is not None and least > min(image_shape[-2:]):
        raise ConfigError(f"{type(model).__name__} needs inputs of at least {least} pixels, but the images are "
                          f"{image_shape[-2]}×{image_shape[-1]}: no crop fits; use larger images")
    if size is None:
        return None
    fitted = -(-max(int(size), minimum) // multiple) * multiple
    if image_shape is not None:
        fitted = min(fitted, min(image_shape[-2:]) // multiple * multiple)
    return fitted
