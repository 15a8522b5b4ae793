import pytest
import torch

from faig_helpers.archs import ArchitectureError, MSRResNet, SRCNNStyle, build_from_state_dict, describe
from faig_helpers.filters import FilterIndex


def test_full_size_filter_counts():
    assert len(FilterIndex.from_state_dict(MSRResNet(num_feat=64, num_block=16, upscale=2).state_dict())) == 151_936
    assert len(FilterIndex.from_state_dict(SRCNNStyle(upscale=2).state_dict())) == 156_224


def test_msrresnet_keys_and_shapes_match_basicsr():
    sd = MSRResNet(num_feat=64, num_block=16, upscale=2).state_dict()
    keys = list(sd)
    assert keys[:4] == ["conv_first.weight", "conv_first.bias", "body.0.conv1.weight", "body.0.conv1.bias"]
    assert keys[-6:] == ["upconv1.weight", "upconv1.bias", "conv_hr.weight", "conv_hr.bias",
                         "conv_last.weight", "conv_last.bias"]
    assert sd["body.15.conv2.weight"].shape == (64, 64, 3, 3)
    assert sd["upconv1.weight"].shape == (256, 64, 3, 3)
    assert sd["conv_last.weight"].shape == (3, 64, 3, 3)
    assert len(keys) == 2 * (1 + 32 + 1 + 2)
    sd4 = MSRResNet(upscale=4).state_dict()
    assert sd4["upconv2.weight"].shape == (256, 64, 3, 3)
    assert MSRResNet(upscale=3).state_dict()["upconv1.weight"].shape == (576, 64, 3, 3)


def test_srcnn_style_keys_and_shapes_match_original():
    sd = SRCNNStyle(upscale=2).state_dict()
    weights = {k: tuple(v.shape) for k, v in sd.items() if k.endswith("weight")}
    assert weights == {"features.0.weight": (64, 3, 3, 3), "features.2.weight": (128, 64, 3, 3),
                       "features.4.weight": (128, 128, 3, 3), "features.6.weight": (128, 128, 3, 3),
                       "features.8.weight": (128, 128, 3, 3), "features.10.weight": (128, 128, 3, 3),
                       "features.12.weight": (512, 128, 3, 3), "features.15.weight": (128, 128, 3, 3),
                       "features.17.weight": (3, 128, 3, 3)}
    sd4 = SRCNNStyle(upscale=4).state_dict()
    assert "features.15.weight" in sd4 and sd4["features.15.weight"].shape == (512, 128, 3, 3)


@pytest.mark.parametrize("net", [
    MSRResNet(num_feat=16, num_block=3, upscale=2), MSRResNet(num_feat=8, num_block=1, upscale=3),
    MSRResNet(num_feat=8, num_block=2, upscale=4), SRCNNStyle((8, 16, 16), upscale=2),
    SRCNNStyle((8, 8), upscale=3), SRCNNStyle((8, 8, 8), upscale=4)])
def test_architecture_inferred_from_state_dict(net):
    sd = net.state_dict()
    rebuilt = build_from_state_dict(sd)
    assert type(rebuilt) is type(net)
    x = torch.rand(1, 3, 10, 12)
    with torch.no_grad():
        out = rebuilt(x)
        assert torch.equal(out, net.eval()(x))
    assert out.shape == (1, 3, 10 * net.upscale, 12 * net.upscale)
    assert describe(sd)["upscale"] == net.upscale


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ArchitectureError, match="unknown architecture"):
        describe({"encoder.weight": torch.zeros(4, 3, 3, 3)})
    with pytest.raises(ArchitectureError, match="3x3 conv"):
        describe({"fc.weight": torch.zeros(4, 3)})


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_srcnn_identity_init_is_nearest_upsampling(scale):
    net = SRCNNStyle((8, 16, 16), upscale=scale).identity_init_(noise=0.0)
    x = torch.rand(1, 3, 6, 7)
    with torch.no_grad():
        assert torch.equal(net(x), torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest"))
