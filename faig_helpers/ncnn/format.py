"""The ncnn model format (Tencent/ncnn, "param and model file structure"), read as it is stored.

* ``.param`` is text: the magic ``7767517``, then ``layer_count blob_count``, then one layer a line:
  ``type name #bottoms #tops bottom… top… k=v …``. A value is an int or a float; a key ``-233xx`` holds an
  array ``n,v1,…,vn`` for parameter id ``xx`` (e.g. ``-23310`` = id 10, activation parameters).
* ``.bin`` holds the weights of the weighted layers in ``.param`` order, nothing else. A Convolution,
  Deconvolution or InnerProduct weight blob starts with a 4-byte tag — ``0x01306B47`` fp16 (payload padded to
  4 bytes), ``0`` fp32, ``0x000D4B38`` int8 — then its values; biases and PReLU slopes are raw fp32 without a
  tag. ncnn's Deconvolution weight is (out, in, kh, kw); PyTorch's ``ConvTranspose2d`` stores (in, out, kh, kw).
"""
from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CheckpointError

__all__ = ["MAGIC", "PLAIN", "WEIGHTED", "NcnnLayer", "NcnnGraph", "read_param", "read_weights", "blob_layout",
           "check_types"]

MAGIC = 7767517
FP16, FP32, INT8 = 0x01306B47, 0, 0x000D4B38
#: layers without weights the loader knows (anything else, weighted or not, is refused by name)
PLAIN = {"Input", "Split", "Concat", "Crop", "Pooling", "BinaryOp", "Eltwise", "Interp", "PixelShuffle", "ReLU",
         "Sigmoid", "Padding", "Noop", "Reshape", "Permute", "Flatten", "Clip", "TanH"}
WEIGHTED = {"Convolution", "Deconvolution", "InnerProduct", "PReLU", "ConvolutionDepthWise"}


@dataclass(frozen=True)
class NcnnLayer:
    """One line of a ``.param``: type, name, input and output blobs, and ``params`` (id → int, float or list)."""

    type: str
    name: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def get(self, key: int, default=None):
        return self.params.get(key, default)


@dataclass(frozen=True)
class NcnnGraph:
    """A parsed ``.param``: its layers in file order and where it came from."""

    path: Path
    layers: tuple[NcnnLayer, ...]

    def count(self, kind: str) -> int:
        return sum(layer.type == kind for layer in self.layers)

    @property
    def weighted(self) -> list[NcnnLayer]:
        return [layer for layer in self.layers if layer.type in WEIGHTED]

    @property
    def input(self) -> str:
        return next(layer.tops[0] for layer in self.layers if layer.type == "Input")

    @property
    def output(self) -> str:
        used = {b for layer in self.layers for b in layer.bottoms}
        return [t for layer in self.layers for t in layer.tops if t not in used][-1]


def _value(text: str, where: str):
    try:
        return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
    except ValueError:
        raise CheckpointError(f"{where}: '{text}' is not a number") from None


def read_param(path: str | os.PathLike) -> NcnnGraph:
    """Parse a text ``.param`` (see the module docstring); a file that is not one fails naming the line."""
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a readable ncnn .param ({type(e).__name__}); binary .param.bin files "
                              "are not supported") from None
    if not lines or lines[0].strip() != str(MAGIC):
        raise CheckpointError(f"{path}: not an ncnn .param (the first line must be the magic {MAGIC})")
    try:
        n_layers, _ = (int(v) for v in lines[1].split())
    except (IndexError, ValueError):
        raise CheckpointError(f"{path}: line 2 must be 'layer_count blob_count'") from None
    layers = []
    for no, line in enumerate(lines[2:], start=3):
        tok = line.split()
        where = f"{path}:{no}"
        try:
            kind, name, nb, nt = tok[0], tok[1], int(tok[2]), int(tok[3])
            bottoms, tops, rest = tok[4:4 + nb], tok[4 + nb:4 + nb + nt], tok[4 + nb + nt:]
        except (IndexError, ValueError):
            raise CheckpointError(f"{where}: expected 'type name #bottoms #tops blobs… k=v…', got '{line[:60]}'") \
                from None
        params = {}
        for kv in rest:
            key, _, val = kv.partition("=")
            k = _value(key, where)
            if k <= -23300:
                n, *vals = val.split(",")
                params[-k - 23300] = [_value(v, where) for v in vals][:int(n)]
            else:
                params[k] = _value(val, where)
        layers.append(NcnnLayer(kind, name, tuple(bottoms), tuple(tops), params))
    if len(layers) != n_layers:
        raise CheckpointError(f"{path}: the header says {n_layers} layers, the file has {len(layers)}")
    return NcnnGraph(path, tuple(layers))


class _Bin:
    """A cursor over the ``.bin``'s bytes that names the layer and offset when it runs out."""

    def __init__(self, path: Path) -> None:
        self.path, self.data, self.pos = path, path.read_bytes(), 0

    def take(self, n: int, layer: NcnnLayer) -> bytes:
        if self.pos + n > len(self.data):
            raise CheckpointError(f"{self.path}: truncated or not this .param's weights: layer '{layer.name}' needs "
                                  f"{n} bytes at offset {self.pos}, the file has {len(self.data)}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def raw(self, count: int, layer: NcnnLayer) -> np.ndarray:
        """``count`` untagged fp32 values (a bias, PReLU slopes)."""
        return np.frombuffer(self.take(4 * count, layer), dtype="<f4").copy()

    def tagged(self, count: int, layer: NcnnLayer) -> np.ndarray:
        """A weight blob: the 4-byte storage tag, then ``count`` values."""
        (tag,) = struct.unpack("<I", self.take(4, layer))
        if tag == FP16:
            data = self.take(-(-2 * count // 4) * 4, layer)
            return np.frombuffer(data[:2 * count], dtype="<f2").astype(np.float32)
        if tag == FP32:
            return np.frombuffer(self.take(4 * count, layer), dtype="<f4").copy()
        if tag == INT8:
            raise CheckpointError(f"{self.path}: layer '{layer.name}' holds int8-quantised weights: an int8 model "
                                  "cannot be attributed (use the fp16/fp32 model)")
        raise CheckpointError(f"{self.path}: layer '{layer.name}' has weight storage tag 0x{tag:08X} at offset "
                              f"{self.pos - 4} (expected fp16 0x{FP16:08X} or fp32 0): not this .param's weights")


def blob_layout(layer: NcnnLayer) -> list[tuple[str, int]]:
    """The weight blobs of a layer in ``.bin`` order: ('tagged' | 'raw', count)."""
    t, p = layer.type, layer.get
    if t in ("Convolution", "ConvolutionDepthWise", "Deconvolution"):
        if p(8, 0):
            raise CheckpointError(f"layer '{layer.name}' is an int8 convolution (8={p(8)}): an int8 model cannot "
                                  "be attributed")
        return [("tagged", p(6, 0))] + ([("raw", p(0, 0))] if p(5, 0) else [])
    if t == "InnerProduct":
        return [("tagged", p(2, 0))] + ([("raw", p(0, 0))] if p(1, 0) else [])
    if t == "PReLU":
        return [("raw", p(0, 0))]
    return []


def check_types(graph: NcnnGraph) -> None:
    """Refuse a graph with a layer type the loader does not know, naming the file and the types."""
    unknown = sorted({layer.type for layer in graph.layers} - PLAIN - WEIGHTED)
    if unknown:
        raise CheckpointError(f"{graph.path}: layer type{'s' * (len(unknown) > 1)} {', '.join(unknown)} "
                              f"{'are' if len(unknown) > 1 else 'is'} not one the ncnn loader knows "
                              f"(weighted: {', '.join(sorted(WEIGHTED))})")


def read_weights(graph: NcnnGraph, bin_path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Every weighted layer's blobs (weight first, then bias / slopes), read from ``bin_path`` to its last byte;
    a layer type the loader does not know, a truncated file or bytes left over fail naming the file."""
    check_types(graph)
    src = _Bin(Path(bin_path))
    out = {}
    for layer in graph.weighted:
        out[layer.name] = [src.tagged(n, layer) if kind == "tagged" else src.raw(n, layer)
                           for kind, n in blob_layout(layer)]
    left = len(src.data) - src.pos
    if left:
        raise CheckpointError(f"{src.path}: {left} bytes left after the last weight of {graph.path.name}: the .bin "
                              "belongs to another model")
    return out
