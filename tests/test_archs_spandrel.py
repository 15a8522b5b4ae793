"""Networks through spandrel, and spandrel's own implementations of the built-in networks."""
import subprocess
import sys

import pytest
import torch

from faig_helpers.archs import (RRDBNet, SRVGGNetCompact, build_from_state_dict, build_network, describe, model_scale,
                                spandrel_fallback)
from faig_helpers.errors import ArchitectureError
from faig_helpers.filters import FilterIndex

pytestmark = pytest.mark.skipif(not spandrel_fallback.available(), reason="spandrel extra not installed")

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


def test_num_grow_ch_other_than_32_is_ours_not_spandrels():
    net = RRDBNet(3, 3, scale=4, num_feat=8, num_block=1, num_grow_ch=8)
    sd = net.state_dict()
    with pytest.raises(RuntimeError):  # spandrel fixes gc = 32
        spandrel.ModelLoader().load_from_state_dict(dict(sd))
    assert describe(sd)["num_grow_ch"] == 8 and isinstance(build_from_state_dict(sd), RRDBNet)


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


def test_span_keeps_gradients_for_every_filter():
    torch.manual_seed(0)
    theirs = SPAN(num_in_ch=3, num_out_ch=3, feature_channels=8, upscale=2).eval()
    ours = _refused_as_is_loaded_ours(theirs, "SPAN", "SPAN: 80 of 102 conv weights get no gradient in eval mode")
    assert ours.faig_arch == "SPAN" and not ours.training
    index = FilterIndex.from_module(ours)
    assert len(index.names) == 82 and not any("eval_conv" in n for n in index.names)  # fused copies: no filters
    _same(ours, theirs, torch.rand(1, 3, 12, 12), atol=1e-4)  # unfused vs fused: float rounding only
    _every_filter_gets_a_gradient(ours)


def test_plksr_backward_works():
    torch.manual_seed(0)
    theirs = PLKSR(dim=8, n_blocks=2, upscaling_factor=2, kernel_size=7).eval()
    ours = _refused_as_is_loaded_ours(theirs, "PLKSR", "PLKSR: forward/backward fails in eval mode")
    _same(ours, theirs, torch.rand(1, 3, 12, 12))
    _every_filter_gets_a_gradient(ours)


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


def test_torchvision_stand_in_or_real():
    tv = sys.modules.get("torchvision")
    assert tv is not None
    if getattr(tv, "__version__", "").endswith("faig-stand-in"):
        from torchvision.transforms.functional import InterpolationMode, rotate
        assert InterpolationMode.BILINEAR.value == "bilinear"
        with pytest.raises(ArchitectureError, match="LaMa and RestoreFormer need a working torchvision"):
            rotate(torch.zeros(1, 3, 4, 4), 90.0)


def test_without_spandrel_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setattr(spandrel_fallback, "_spandrel", None)
    monkeypatch.setattr(spandrel_fallback, "_import_error", "spandrel is not installed (pip install "
                                                            "'faig-lab[spandrel]')")
    with pytest.raises(ArchitectureError, match=r"unknown architecture: .*\(spandrel is not installed \(pip install "
                                                r"'faig-lab\[spandrel\]'\)\)"):
        build_from_state_dict(_swinir().state_dict())


def test_a_spandrel_model_loads_inside_no_grad():
    with torch.no_grad():  # e.g. a notebook reloading an exported model where it evaluates it
        ours = build_from_state_dict(_swinir().state_dict())
    assert ours.faig_arch == "SwinIR"


def test_the_torchvision_stand_in_is_quiet(tmp_path):
    """A process that imports spandrel prints nothing about torchvision unless a model needs the real one."""
    run = subprocess.run([sys.executable, "-c", "from faig_helpers.archs import spandrel_fallback as s; "
                          "s.import_spandrel(); import spandrel.architectures.RealCUGAN"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "torchvision" not in run.stderr + run.stdout
