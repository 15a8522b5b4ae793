import pytest
import torch
import torch.nn.functional as F
from torch import nn

from faig_helpers.archs import (ARCH_REGISTRY, EDSR, MSRResNet, RRDBNet, SRCNNStyle, SRVGGNetCompact,
                                ArchitectureError, build_from_state_dict, build_network, describe, model_scale,
                                register_arch)
from faig_helpers.errors import FaigLabError
from faig_helpers.filters import FilterIndex


def test_full_size_filter_counts():
    with torch.device("meta"):  # shapes only
        srresnet, srcnn = MSRResNet(num_feat=64, num_block=16, upscale=2), SRCNNStyle(upscale=2)
    assert len(FilterIndex.from_state_dict(srresnet.state_dict())) == len(FilterIndex.from_module(srresnet)) == 151_936
    assert len(FilterIndex.from_state_dict(srcnn.state_dict())) == len(FilterIndex.from_module(srcnn)) == 156_224


def test_msrresnet_keys_and_shapes_match_basicsr():
    with torch.device("meta"):
        sd = MSRResNet(num_feat=64, num_block=16, upscale=2).state_dict()
        sd4, sd3 = MSRResNet(upscale=4).state_dict(), MSRResNet(upscale=3).state_dict()
    keys = list(sd)
    assert keys[:4] == ["conv_first.weight", "conv_first.bias", "body.0.conv1.weight", "body.0.conv1.bias"]
    assert keys[-6:] == ["upconv1.weight", "upconv1.bias", "conv_hr.weight", "conv_hr.bias",
                         "conv_last.weight", "conv_last.bias"]
    assert sd["body.15.conv2.weight"].shape == (64, 64, 3, 3)
    assert sd["upconv1.weight"].shape == (256, 64, 3, 3)
    assert sd["conv_last.weight"].shape == (3, 64, 3, 3)
    assert len(keys) == 2 * (1 + 32 + 1 + 2)
    assert sd4["upconv2.weight"].shape == (256, 64, 3, 3)
    assert sd3["upconv1.weight"].shape == (576, 64, 3, 3)


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


def test_rrdbnet_keys_and_shapes_match_basicsr():
    with torch.device("meta"):  # shapes only: the full-size net is slow to initialise on one core
        sd = RRDBNet(3, 3, scale=4, num_feat=64, num_block=23, num_grow_ch=32).state_dict()
        sd2, sd1 = RRDBNet(3, 3, scale=2).state_dict(), RRDBNet(3, 3, scale=1).state_dict()
    weights = [k for k in sd if k.endswith("weight")]
    assert weights[:6] == ["conv_first.weight"] + [f"body.0.rdb1.conv{j}.weight" for j in range(1, 6)]
    assert weights[-6:] == ["body.22.rdb3.conv5.weight", "conv_body.weight", "conv_up1.weight", "conv_up2.weight",
                            "conv_hr.weight", "conv_last.weight"]
    assert sd["body.0.rdb1.conv5.weight"].shape == (64, 64 + 4 * 32, 3, 3)
    assert len(sd) == 2 * (1 + 23 * 15 + 5)
    assert sd2["conv_first.weight"].shape == (64, 12, 3, 3) and sd1["conv_first.weight"].shape == (64, 48, 3, 3)


BUILT_IN = [
    MSRResNet(num_feat=16, num_block=3, upscale=2), MSRResNet(num_feat=8, num_block=1, upscale=3),
    MSRResNet(num_feat=8, num_block=2, upscale=4), SRCNNStyle((8, 16, 16), upscale=2),
    SRCNNStyle((8, 8), upscale=3), SRCNNStyle((8, 8, 8), upscale=4),
    RRDBNet(3, 3, scale=4, num_feat=8, num_block=2, num_grow_ch=4), RRDBNet(3, 3, scale=2, num_feat=8, num_block=1),
    RRDBNet(3, 3, scale=1, num_feat=8, num_block=1, num_grow_ch=16),
    SRVGGNetCompact(num_feat=8, num_conv=3, upscale=4), SRVGGNetCompact(num_feat=8, num_conv=1, upscale=2,
                                                                       act_type="relu"),
    EDSR(num_feat=8, num_block=2, upscale=2), EDSR(num_feat=8, num_block=1, upscale=3),
    EDSR(num_feat=8, num_block=1, upscale=4)]


@pytest.mark.parametrize("net", BUILT_IN, ids=lambda n: type(n).__name__)
def test_architecture_inferred_from_state_dict(net):
    sd = net.state_dict()
    rebuilt = build_from_state_dict(sd)
    assert type(rebuilt) is type(net) and not rebuilt.training
    x = torch.rand(1, 3, 8, 12)
    with torch.no_grad():
        out = rebuilt(x)
        assert torch.equal(out, net.eval()(x))
    scale = model_scale(net)
    assert out.shape == (1, 3, 8 * scale, 12 * scale)
    spec = describe(sd)
    assert spec["type"] == type(net).__name__
    again = build_network(spec)
    assert [(k, v.shape) for k, v in again.state_dict().items()] == [(k, v.shape) for k, v in sd.items()]


def test_describe_recovers_hyper_parameters():
    assert describe(RRDBNet(3, 3, scale=2, num_feat=8, num_block=3, num_grow_ch=5).state_dict()) == dict(
        type="RRDBNet", num_in_ch=3, num_out_ch=3, scale=2, num_feat=8, num_block=3, num_grow_ch=5)
    assert describe(SRVGGNetCompact(num_in_ch=1, num_out_ch=1, num_feat=4, num_conv=2, upscale=3).state_dict()) == dict(
        type="SRVGGNetCompact", num_in_ch=1, num_out_ch=1, num_feat=4, num_conv=2, upscale=3, act_type="prelu")
    assert describe(EDSR(num_feat=8, num_block=3, upscale=8).state_dict()) == dict(
        type="EDSR", num_in_ch=3, num_out_ch=3, num_feat=8, num_block=3, upscale=8)
    assert describe(MSRResNet(num_feat=8, num_block=2, upscale=3).state_dict())["upscale"] == 3


def test_old_esrgan_layouts_become_basicsr_keys():
    net = RRDBNet(3, 3, scale=4, num_feat=8, num_block=2, num_grow_ch=6).eval()
    sd = net.state_dict()
    old = {}
    for k, v in sd.items():
        head, kind = k.rsplit(".", 1)
        if head.startswith("body."):
            _, b, rdb, conv = head.split(".")
            old[f"model.1.sub.{b}.RDB{rdb[-1]}.conv{conv[-1]}.0.{kind}"] = v
        else:
            i = {"conv_first": 0, "conv_up1": 3, "conv_up2": 6, "conv_hr": 8, "conv_last": 10}.get(head)
            old[f"model.1.sub.2.{kind}" if head == "conv_body" else f"model.{i}.{kind}"] = v
    names = {"conv_body": "trunk_conv", "conv_up1": "upconv1", "conv_up2": "upconv2", "conv_hr": "HRconv"}
    esrgan = {(k.replace("body.", "RRDB_trunk.", 1).replace(".rdb", ".RDB") if k.startswith("body.") else
               names.get(k.rsplit(".", 1)[0], k.rsplit(".", 1)[0]) + "." + k.rsplit(".", 1)[1]): v
              for k, v in sd.items()}
    x = torch.rand(1, 3, 6, 7)
    for layout in (old, esrgan):
        assert describe(layout) == describe(sd)
        rebuilt = build_from_state_dict(layout)
        assert list(rebuilt.state_dict()) == list(sd)
        with torch.no_grad():
            assert torch.equal(rebuilt(x), net(x))


def test_edsr_forward_is_basicsr_formula():
    torch.manual_seed(0)
    net = EDSR(num_feat=8, num_block=2, upscale=4, res_scale=0.5, img_range=255.0).eval()
    sd, mean = net.state_dict(), torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1)
    assert not any("mean" in k for k in sd)  # BasicSR keeps the mean out of the state dict

    def conv(name, t):
        return F.conv2d(t, sd[f"{name}.weight"], sd[f"{name}.bias"], padding=1)
    x = torch.rand(1, 3, 5, 6)
    h = conv("conv_first", (x - mean) * 255.0)
    r = h
    for b in range(2):
        r = r + conv(f"body.{b}.conv2", F.relu(conv(f"body.{b}.conv1", r))) * 0.5
    r = conv("conv_after_body", r) + h
    for i in (0, 2):
        r = F.pixel_shuffle(conv(f"upsample.{i}", r), 2)
    want = conv("conv_last", r) / 255.0 + mean
    with torch.no_grad():
        torch.testing.assert_close(net(x), want, atol=1e-5, rtol=1e-5)


def test_srvgg_activation_types_and_explicit_arch():
    for act in ("relu", "leakyrelu"):
        net = SRVGGNetCompact(num_feat=4, num_conv=2, upscale=2, act_type=act).eval()
        rebuilt = build_from_state_dict(net.state_dict(), {"type": "SRVGGNetCompact", "num_feat": 4, "num_conv": 2,
                                                           "upscale": 2, "act_type": act})
        x = torch.randn(1, 3, 5, 5)
        with torch.no_grad():
            assert torch.equal(rebuilt(x), net(x))
    assert isinstance(build_from_state_dict(SRVGGNetCompact(num_feat=4, num_conv=1).state_dict()).body[1], nn.PReLU)


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ArchitectureError, match=r"unknown architecture: first keys \['encoder.weight'\]; tried "
                                                r"MSRResNet, SRCNNStyle, RRDBNet, SRVGGNetCompact, EDSR"):
        describe({"encoder.weight": torch.zeros(4, 3, 3, 3)})
    with pytest.raises(ArchitectureError, match="unknown architecture"):
        build_from_state_dict({"fc.weight": torch.zeros(4, 3)})
    with pytest.raises(ArchitectureError, match="no architecture named 'NoSuchNet'"):
        build_network({"type": "NoSuchNet"})
    with pytest.raises(ArchitectureError, match="needs a 'type'"):
        build_network({"num_feat": 4})
    with pytest.raises(ArchitectureError, match="does not fit MSRResNet: 'conv_first.weight' has shape"):
        build_from_state_dict(MSRResNet(num_feat=8, num_block=1).state_dict(), {"type": "MSRResNet", "num_feat": 4,
                                                                              "num_block": 1})
    assert issubclass(ArchitectureError, FaigLabError) and issubclass(ArchitectureError, ValueError)


def test_registry_takes_a_new_network_and_spec_key_is_type():
    assert list(ARCH_REGISTRY)[:5] == ["MSRResNet", "SRCNNStyle", "RRDBNet", "SRVGGNetCompact", "EDSR"]
    assert isinstance(build_network({"arch": "MSRResNet", "num_block": 1}), MSRResNet)

    @register_arch(name="TinyTestNet")
    class Tiny(nn.Module):
        def __init__(self, width: int = 4) -> None:
            super().__init__()
            self.tiny_in = nn.Conv2d(3, width, 5, padding=2)
            self.tiny_out = nn.Conv2d(width, 12, 1)

        def forward(self, x):
            return F.pixel_shuffle(self.tiny_out(self.tiny_in(x)), 2)

        @classmethod
        def kwargs_from_state_dict(cls, sd):
            return dict(width=sd["tiny_in.weight"].shape[0]) if "tiny_in.weight" in sd else None
    try:
        net = build_from_state_dict(Tiny(6).state_dict())
        assert isinstance(net, Tiny) and describe(net.state_dict()) == {"type": "TinyTestNet", "width": 6}
        assert model_scale(net) == 2  # no known attribute: one probe forward
    finally:
        ARCH_REGISTRY.unregister("TinyTestNet")


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_srcnn_identity_init_is_nearest_upsampling(scale):
    net = SRCNNStyle((8, 16, 16), upscale=scale).identity_init_(noise=0.0)
    x = torch.rand(1, 3, 6, 7)
    with torch.no_grad():
        assert torch.equal(net(x), torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest"))
