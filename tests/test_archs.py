import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from faig_helpers.archs import (ARCH_REGISTRY, EDSR, ArchitectureError, MSRResNet, RRDBNet, SRCNNStyle,
                                SRVGGNetCompact, build_from_state_dict, build_network, describe, model_scale,
                                register_arch, spandrel_fallback)
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


# ---------------------------------------------------------------- networks through spandrel, and spandrel's own
# implementations of the built-in networks

#: the tests of networks through spandrel: skipped without the spandrel extra
needs_spandrel = pytest.mark.skipif(not spandrel_fallback.available(), reason="spandrel extra not installed")

if spandrel_fallback.available():
    spandrel = spandrel_fallback.import_spandrel()  # before any `import spandrel`: torchvision may be broken
    from spandrel.architectures.Compact import Compact
    from spandrel.architectures.ESRGAN import ESRGAN
    from spandrel.architectures.PLKSR import PLKSR
    from spandrel.architectures.RCAN import RCAN
    from spandrel.architectures.SPAN import SPAN
    from spandrel.architectures.SwinIR import SwinIR


def _same(ours, theirs, x, atol=1e-5):
    with torch.no_grad():
        torch.testing.assert_close(ours(x.clone()), theirs(x.clone()), atol=atol, rtol=1e-5)


def _every_filter_gets_a_gradient(model):
    index = FilterIndex.from_module(model)
    params = dict(model.named_parameters())
    for p in params.values():
        p.grad = None
    model.requires_grad_(True)
    model(torch.rand(1, 3, 16, 16)).square().sum().backward()
    assert all(params[n].grad is not None and params[n].grad.abs().sum() > 0 for n in index.names)


@needs_spandrel
@pytest.mark.parametrize("scale, shuffle", [(4, None), (4, 2), (4, 4)])
def test_spandrel_esrgan_loads_into_our_rrdbnet(scale, shuffle):
    torch.manual_seed(0)
    in_nc = 3 * (shuffle or 1) ** 2
    theirs = ESRGAN(in_nc=in_nc, out_nc=3, num_filters=8, num_blocks=2, scale=scale, shuffle_factor=shuffle).eval()
    sd = theirs.state_dict()  # the original ESRGAN layout 'model.0 … model.10'
    assert "model.1.sub.0.RDB1.conv1.0.weight" in sd
    ours = build_from_state_dict(sd)
    true_scale = scale // (shuffle or 1)
    assert isinstance(ours, RRDBNet) and model_scale(ours) == true_scale
    assert describe(sd) == dict(type="RRDBNet", num_in_ch=3, num_out_ch=3, scale=true_scale, num_feat=8, num_block=2,
                                num_grow_ch=32)
    _same(ours, theirs, torch.rand(1, 3, 8, 12))


@needs_spandrel
def test_num_grow_ch_other_than_32_is_ours_not_spandrels():
    net = RRDBNet(3, 3, scale=4, num_feat=8, num_block=1, num_grow_ch=8)
    sd = net.state_dict()
    with pytest.raises(RuntimeError):  # spandrel fixes gc = 32
        spandrel.ModelLoader().load_from_state_dict(dict(sd))
    assert describe(sd)["num_grow_ch"] == 8 and isinstance(build_from_state_dict(sd), RRDBNet)


@needs_spandrel
@pytest.mark.parametrize("act", ["prelu", "relu", "leakyrelu"])
def test_spandrel_compact_loads_into_our_srvgg(act):
    torch.manual_seed(0)
    theirs = Compact(num_feat=8, num_conv=3, upscale=2, act_type=act).eval()
    sd = theirs.state_dict()
    spec = describe(sd)
    assert spec == dict(type="SRVGGNetCompact", num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=3, upscale=2,
                        act_type="prelu" if act == "prelu" else "relu")
    ours = build_from_state_dict(sd, {**spec, "act_type": act})  # relu/leakyrelu: same keys, named explicitly
    assert isinstance(ours, SRVGGNetCompact)
    _same(ours, theirs, torch.randn(1, 3, 7, 6))


def _swinir():
    torch.manual_seed(0)
    return SwinIR(img_size=16, embed_dim=12, depths=[1, 1], num_heads=[2, 2], window_size=4, mlp_ratio=2.0, upscale=2,
                  upsampler="pixelshuffle").eval()


@needs_spandrel
def test_swinir_through_spandrel():
    theirs = _swinir()
    sd = theirs.state_dict()
    ours = build_from_state_dict(sd)
    assert ours.faig_arch == "SwinIR" and model_scale(ours) == 2 and not ours.training
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    spec = describe(sd)
    assert spec["type"] == "SwinIR" and spec["embed_dim"] == 12 and spec["upscale"] == 2
    assert type(build_network(spec)).__name__ == "SwinIR"
    _same(ours, theirs, torch.rand(1, 3, 16, 16))
    _every_filter_gets_a_gradient(ours)
    assert len(FilterIndex.from_module(ours)) < len(FilterIndex.from_module(ours, units="conv+linear"))


@needs_spandrel
def test_spandrel_gets_a_copy_of_the_state_dict():
    theirs = _swinir()
    sd = {k.replace("conv_first.", "conv_first.1.") if k.startswith("conv_first.") else k: v
          for k, v in theirs.state_dict().items()}  # the layout spandrel's SwinIR loader renames by popping
    given, keys = dict(sd), list(sd)
    spandrel.ModelLoader().load_from_state_dict(given)
    assert "conv_first.1.weight" not in given  # the problem: spandrel changes the dict it is given
    ours = build_from_state_dict(sd)
    assert list(sd) == keys
    _same(ours, theirs, torch.rand(1, 3, 16, 16))


def _refused_as_is_loaded_ours(theirs, arch: str, problem: str):
    """spandrel's module itself fails the gradient check with ``problem``; ours, built from its state dict, loads."""
    with pytest.raises(ArchitectureError, match=problem):
        spandrel_fallback.check_gradients(theirs, arch)
    return build_from_state_dict(theirs.state_dict())


@needs_spandrel
def test_span_keeps_gradients_for_every_filter():
    torch.manual_seed(0)
    theirs = SPAN(num_in_ch=3, num_out_ch=3, feature_channels=8, upscale=2).eval()
    ours = _refused_as_is_loaded_ours(theirs, "SPAN", "SPAN: 80 of 102 conv weights get no gradient in eval mode")
    assert ours.faig_arch == "SPAN" and not ours.training
    index = FilterIndex.from_module(ours)
    assert len(index.names) == 82 and not any("eval_conv" in n for n in index.names)  # fused copies: no filters
    _same(ours, theirs, torch.rand(1, 3, 12, 12), atol=1e-4)  # unfused vs fused: float rounding only
    _every_filter_gets_a_gradient(ours)


@needs_spandrel
def test_plksr_backward_works():
    torch.manual_seed(0)
    theirs = PLKSR(dim=8, n_blocks=2, upscaling_factor=2, kernel_size=7).eval()
    ours = _refused_as_is_loaded_ours(theirs, "PLKSR", "PLKSR: forward/backward fails in eval mode")
    _same(ours, theirs, torch.rand(1, 3, 12, 12))
    _every_filter_gets_a_gradient(ours)


@needs_spandrel
def test_rcan_never_changes_the_callers_tensor():
    torch.manual_seed(0)
    theirs = RCAN(scale=2, n_resgroups=1, n_resblocks=1, n_feats=8, reduction=4).eval()
    x = torch.rand(1, 3, 8, 8)
    x0 = x.clone()
    with torch.no_grad():
        want = theirs(x)
    assert not torch.equal(x, x0)  # the problem: RCAN scales its input in place
    ours = build_from_state_dict(theirs.state_dict())
    x1 = x0.clone()
    with torch.no_grad():
        got = ours(x0)
    assert torch.equal(x0, x1) and torch.equal(got, want)


@needs_spandrel
def test_torchvision_stand_in_or_real():
    tv = sys.modules.get("torchvision")
    assert tv is not None
    if getattr(tv, "__version__", "").endswith("faig-stand-in"):
        from torchvision.transforms.functional import InterpolationMode, rotate
        assert InterpolationMode.BILINEAR.value == "bilinear"
        with pytest.raises(ArchitectureError, match="LaMa and RestoreFormer need a working torchvision"):
            rotate(torch.zeros(1, 3, 4, 4), 90.0)


@needs_spandrel
def test_without_spandrel_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setattr(spandrel_fallback, "_spandrel", None)
    monkeypatch.setattr(spandrel_fallback, "_import_error", "spandrel is not installed (pip install "
                                                            "'faig-lab[spandrel]')")
    with pytest.raises(ArchitectureError, match=r"unknown architecture: .*\(spandrel is not installed \(pip install "
                                                r"'faig-lab\[spandrel\]'\)\)"):
        build_from_state_dict(_swinir().state_dict())


@needs_spandrel
def test_a_spandrel_model_loads_inside_no_grad():
    with torch.no_grad():  # e.g. a notebook reloading an exported model where it evaluates it
        ours = build_from_state_dict(_swinir().state_dict())
    assert ours.faig_arch == "SwinIR"


@needs_spandrel
def test_the_torchvision_stand_in_is_quiet(tmp_path):
    """A process that imports spandrel prints nothing about torchvision unless a model needs the real one."""
    run = subprocess.run([sys.executable, "-c", "from faig_helpers.archs import spandrel_fallback as s; "
                          "s.import_spandrel(); import spandrel.architectures.RealCUGAN"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "torchvision" not in run.stderr + run.stdout
