"""Every other network through spandrel (optional extra ``faig-lab[spandrel]``, MIT; its non-commercial
``spandrel_extra_arches`` is never used or installed by us).

What FAIG needs from a spandrel model, and what is done for it:

* **spandrel importable** even where ``torchvision`` is not: spandrel imports it eagerly but needs it only
  for LaMa and RestoreFormer. When ``import torchvision`` fails (e.g. PyPI's CUDA build next to a CPU torch:
  ``operator torchvision::nms does not exist``), the half-imported modules are removed from ``sys.modules``
  and a stand-in ``torchvision.transforms.functional`` is registered whose functions raise a one-line
  error; one log line says so.
* **a gradient for every filter**: SPAN re-parameterises its convs in eval mode (80 of 102 get no gradient)
  and PLKSR writes into its input in place in eval mode (autograd fails). Their modules with a
  training-only forward (``Conv3XC``, ``PLKConv2d``, ``RectSparsePLKConv2d``) always run that forward —
  the same function, computed from the weights that are trained — whatever ``.eval()`` says; SPAN's fused
  ``eval_conv`` copies become buffers (still in the state dict; no filters, not moved along the path).
  Every model then gets one forward/backward probe: a backward that fails, a conv weight without a
  gradient or a parameter the forward does not use is refused with one line naming the architecture.
* **the caller's tensors are never changed**: inputs are cloned before the forward (RCAN scales its
  input in place).
* **the caller's state dict is never changed**: spandrel is given a copy (its SwinIR loader pops keys).
* models are in eval mode; layer names are the module's own parameter names; ``model.faig_arch`` and
  ``model.faig_scale`` record spandrel's architecture id and scale.

BasicSR/ESRGAN RRDBNet keys never come here (spandrel fixes ``num_grow_ch = 32``): the built-in
:class:`~faig_helpers.archs.rrdbnet_arch.RRDBNet` claims them first.
"""
from __future__ import annotations

import enum
import importlib
import importlib.util
import logging
import sys
import types
from collections.abc import Mapping

import torch
from torch import nn
from torch.func import functional_call

from ..errors import ArchitectureError
from ..filters import NOT_FILTERS, FilterIndex

__all__ = ["import_spandrel", "available", "spandrel_version", "detect", "load", "build", "describe", "check_gradients",
           "prepare", "unavailable_reason"]

log = logging.getLogger(__name__)

INSTALL = "pip install 'faig-lab[spandrel]'"
#: spandrel modules whose eval-mode forward breaks gradients; their training forward is the same function
TRAIN_FORWARD = ("Conv3XC", "PLKConv2d", "RectSparsePLKConv2d")
#: sub-modules that are fused copies of other weights (recomputed from them in eval mode), not filters
FUSED = {"Conv3XC": ("eval_conv",)}

_spandrel = None
_import_error: str | None = None


def _torchvision_stand_in(reason: str) -> None:
    """Replace a torchvision that cannot be imported by a stand-in holding what spandrel imports."""
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]

    def unavailable(name: str):
        def fail(*args, **kwargs):
            raise ArchitectureError(f"torchvision.transforms.functional.{name} is unavailable ({reason}): "
                                    "spandrel's LaMa and RestoreFormer need a working torchvision")
        return fail

    class InterpolationMode(enum.Enum):
        NEAREST = "nearest"
        NEAREST_EXACT = "nearest-exact"
        BILINEAR = "bilinear"
        BICUBIC = "bicubic"
        BOX = "box"
        HAMMING = "hamming"
        LANCZOS = "lanczos"

    pkg = types.ModuleType("torchvision", "stand-in registered by faig_helpers (the real one does not import)")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    pkg.__path__, transforms.__path__ = [], []  # packages, so that submodule imports resolve
    pkg.__version__ = "0+faig-stand-in"
    pkg.transforms, transforms.functional = transforms, functional
    functional.InterpolationMode = InterpolationMode

    def attribute(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return unavailable(name)

    functional.__getattr__ = attribute
    sys.modules.update({"torchvision": pkg, "torchvision.transforms": transforms,
                        "torchvision.transforms.functional": functional})
    log.debug("torchvision does not import here (%s): spandrel loads with a stand-in; only its LaMa and "
                "RestoreFormer need the real one", reason)


def _import():
    """spandrel, imported once (None when it is not installed; the reason in ``_import_error``)."""
    global _spandrel, _import_error
    if _spandrel is not None or _import_error is not None:
        return _spandrel
    if importlib.util.find_spec("spandrel") is None:
        _import_error = f"spandrel is not installed ({INSTALL})"
        return None
    tv = sys.modules.get("torchvision")
    if tv is None or not getattr(tv, "__version__", "").endswith("faig-stand-in"):
        try:
            import torchvision  # noqa: F401
        except Exception as e:  # RuntimeError for a CUDA/CPU mismatch, ImportError when absent
            _torchvision_stand_in(f"{type(e).__name__}: {str(e).splitlines()[0][:100]}" if str(e)
                                  else type(e).__name__)
    try:
        import spandrel
    except Exception as e:
        _import_error = f"spandrel does not import ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
        return None
    _spandrel = spandrel
    return spandrel


def import_spandrel():
    """The spandrel module, made importable here (see the module docstring); :class:`ArchitectureError`
    when it is not installed. Import it through this before ``import spandrel`` in a process whose
    torchvision is broken."""
    s = _import()
    if s is None:
        raise ArchitectureError(_import_error)
    return s


def available() -> bool:
    """Whether spandrel can be used here."""
    return _import() is not None


def spandrel_version() -> str | None:
    s = _import()
    return getattr(s, "__version__", None) if s is not None else None


def unavailable_reason() -> str:
    _import()
    return _import_error or ""


def _state(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy for spandrel (its loaders pop and rename keys), canonicalised as spandrel does."""
    return _import().canonicalize_state_dict(dict(sd))


def detect(sd: Mapping[str, torch.Tensor]) -> str | None:
    """spandrel's architecture id for a state dict, or None (also when spandrel is unavailable)."""
    s = _import()
    if s is None:
        return None
    state = _state(sd)
    for support in s.MAIN_REGISTRY.architectures("detection"):
        if support.architecture.detect(state):
            return str(support.architecture.id)
    return None


# ---- making a spandrel module fit for FAIG -----------------------------------------------------------------

class _TrainForward:
    """Mixin: the module's training-mode forward, whatever its mode (its children keep theirs)."""

    def forward(self, *args, **kwargs):
        was = self.training
        self.training = True
        try:
            return super().forward(*args, **kwargs)
        finally:
            self.training = was


class _Proxy:
    """What a spandrel ``call_fn`` sees as the model: attributes of the module, call = its own forward."""

    def __init__(self, module: nn.Module, forward) -> None:
        self._module, self._forward = module, forward

    def __getattr__(self, name):
        return getattr(self._module, name)

    def __call__(self, *args, **kwargs):
        return self._forward(*args, **kwargs)


class _CallFnForward:
    """Mixin: forward = spandrel's ``call_fn(model, x)`` (e.g. the first of several outputs)."""

    _faig_call_fn = None

    def forward(self, x):
        return type(self)._faig_call_fn(_Proxy(self, super().forward), x)


_classes: dict[tuple, type] = {}


def _swap_class(module: nn.Module, mixin: type, **attrs) -> None:
    key = (mixin, type(module), tuple(sorted((k, id(v)) for k, v in attrs.items())))
    if key not in _classes:
        cls = type(module)
        _classes[key] = type(cls.__name__, (mixin, cls), {"__module__": cls.__module__,
                                                          **{k: staticmethod(v) for k, v in attrs.items()}})
    module.__class__ = _classes[key]


def _as_buffers(module: nn.Module) -> None:
    """A fused copy: its parameters become (persistent) buffers — still in the state dict, but neither
    filters nor moved along the path nor differentiated (the forward never uses them)."""
    setattr(module, NOT_FILTERS, True)
    for name, p in list(module.named_parameters(recurse=False)):
        delattr(module, name)
        module.register_buffer(name, p.detach())


def _clone_inputs(module: nn.Module, args: tuple) -> tuple:
    return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)


def check_gradients(model: nn.Module, arch: str, in_channels: int = 3, size: int = 16) -> None:
    """One forward/backward on a random input: raise :class:`ArchitectureError` if the backward fails or a
    filter weight gets no gradient (FAIG integrates the gradient w.r.t. every filter)."""
    index = FilterIndex.from_module(model)
    params = {n: p.detach().requires_grad_() for n, p in model.named_parameters()}
    x = torch.rand(1, in_channels, size, size, generator=torch.Generator().manual_seed(0))
    try:
        with torch.enable_grad():  # also when the caller loads the model inside torch.no_grad()
            out = functional_call(model, params, (x.to(next(iter(params.values())).device),))
            grads = dict(zip(params, torch.autograd.grad(out.float().square().sum(), list(params.values()),
                                                         allow_unused=True)))
    except Exception as e:
        raise ArchitectureError(f"spandrel {arch}: forward/backward fails in eval mode ({type(e).__name__}: "
                                f"{str(e).splitlines()[0][:120]}); FAIG needs a gradient for every filter") from None
    missing = [n for n in index.names if grads[n] is None]
    if missing:
        raise ArchitectureError(f"spandrel {arch}: {len(missing)} of {len(index.names)} conv weights get no gradient "
                                f"in eval mode (first: '{missing[0]}'); FAIG needs a gradient for every filter")
    unused = [n for n, g in grads.items() if g is None]
    if unused:
        raise ArchitectureError(f"spandrel {arch}: {len(unused)} parameters are not used by the forward (first: "
                                f"'{unused[0]}'); FAIG differentiates every parameter along the path")


def _size_rule(desc) -> tuple[int, int]:
    """(minimum, multiple_of) of the input sizes spandrel states for the model."""
    req = getattr(desc, "size_requirements", None)
    return max(1, getattr(req, "minimum", 0) or 0), max(1, getattr(req, "multiple_of", 1) or 1)


def _probe_size(desc) -> int:
    minimum, multiple = _size_rule(desc)
    return -(-max(16, minimum) // multiple) * multiple


def prepare(model: nn.Module, arch: str, *, scale: int | None = None, call_fn=None, in_channels: int = 3,
            probe_size: int = 16, size: tuple[int, int] | None = None) -> nn.Module:
    """Make a spandrel module fit for FAIG (see the module docstring); eval mode; checks gradients."""
    for m in list(model.modules()):
        name = type(m).__name__
        if name in TRAIN_FORWARD and type(m).__module__.startswith("spandrel."):
            for child in FUSED.get(name, ()):
                if isinstance(getattr(m, child, None), nn.Module):
                    _as_buffers(getattr(m, child))
            _swap_class(m, _TrainForward)
    if call_fn is not None:
        _swap_class(model, _CallFnForward, _faig_call_fn=call_fn)
    model.register_forward_pre_hook(_clone_inputs)
    model.faig_arch = arch
    if scale is not None:
        model.faig_scale = int(scale)
    if size is not None:
        model.faig_size = size
    model.eval()
    check_gradients(model, arch, in_channels, probe_size)
    return model


def _call_fn(desc):
    fn = getattr(desc, "_call_fn", None)
    return None if fn is None or "ImageModelDescriptor.__init__" in getattr(fn, "__qualname__", "") else fn


def load(sd: Mapping[str, torch.Tensor]) -> nn.Module:
    """The network a state dict describes, built and loaded by spandrel, fit for FAIG."""
    s = _import()
    if s is None:
        raise ArchitectureError(_import_error)
    try:
        desc = s.ModelLoader().load_from_state_dict(_state(sd))
    except s.UnsupportedModelError:
        raise ArchitectureError(f"spandrel {s.__version__} does not recognise the keys either") from None
    except Exception as e:
        raise ArchitectureError(f"spandrel failed to load it ({type(e).__name__}: "
                                f"{str(e).splitlines()[0][:160] if str(e) else ''})") from None
    arch = str(desc.architecture.id)
    if not isinstance(desc, s.ImageModelDescriptor):
        raise ArchitectureError(f"spandrel {arch} is a {type(desc).__name__} (e.g. inpainting with a mask): "
                                "FAIG needs an image-to-image network")
    return prepare(desc.model, arch, scale=desc.scale, call_fn=_call_fn(desc), in_channels=desc.input_channels,
                   probe_size=_probe_size(desc), size=_size_rule(desc))


def _arch_class(arch: str) -> type:
    s = _import()
    if s is None:
        raise ArchitectureError(_import_error)
    if arch not in s.MAIN_REGISTRY:
        raise ArchitectureError(f"no architecture named '{arch}' in the built-in registry or spandrel "
                                f"{s.__version__}")
    mod = importlib.import_module(f"spandrel.architectures.{arch}")
    classes = [getattr(mod, n) for n in getattr(mod, "__all__", ())]
    classes = [c for c in classes if isinstance(c, type) and issubclass(c, nn.Module)]
    if not classes:
        raise ArchitectureError(f"spandrel's {arch} exports no network class")
    return classes[0]


def build(arch: str, kwargs: Mapping) -> nn.Module:
    """A new spandrel network of architecture ``arch`` from its hyper-parameters (``describe``'s kwargs),
    random weights, fit for FAIG."""
    model = _arch_class(arch)(**kwargs)
    names = ("in_nc", "num_in_ch", "in_chans", "in_ch", "in_channels", "inp_channels")
    in_channels = next((int(kwargs[n]) for n in names if isinstance(kwargs.get(n), int)), 3)
    return prepare(model, arch, in_channels=in_channels)


def describe(sd: Mapping[str, torch.Tensor]) -> dict | None:
    """``{'type': spandrel id, **hyper-parameters}`` for a state dict spandrel recognises, else None."""
    if detect(sd) is None:
        return None
    model = load(sd)
    return {"type": model.faig_arch, **dict(getattr(model, "hyperparameters", {}))}
