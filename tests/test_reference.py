"""The faithful original loop (a new network per step) equals the fast FAIG, for any architecture and for
the user's own modules."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from faig_helpers.archs import EDSR, MSRResNet, RRDBNet, SRCNNStyle, SRVGGNetCompact, spandrel_fallback
from faig_helpers.checkpoint import load_pair, save_checkpoint
from faig_helpers.degradations import DatasetRoot
from faig_helpers.filters import FilterIndex, top_jaccard
from faig_helpers.methods import FAIG
from faig_helpers.reference import original_faig_image, original_faig_scores

from test_filters import Mixed


def _target_of(base: nn.Module, seed: int = 1) -> nn.Module:
    target = copy.deepcopy(base)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in target.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g) * (p.std() if p.numel() > 1 else 0.1) + 1e-3)
    return target


def _inputs(scale: int, size: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(1, 3, size * scale, size * scale, generator=g)
    return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g), y


def _agree(baseline, target, scale, n_steps, ref_source=None):
    x_blur, x_noise, y = _inputs(scale)
    a = FAIG(baseline, target).attribute_inputs([x_blur, x_noise], y, n_steps, "riemann_left")
    fast = a["A"][0] - a["A"][1]
    ref = original_faig_image(*(ref_source or (baseline, target)), x_blur, x_noise, y, n_steps)
    assert fast.shape == ref.shape == (len(FilterIndex.from_module(target)),)
    np.testing.assert_allclose(fast, ref, rtol=1e-3, atol=1e-5 * np.abs(ref).max())
    assert top_jaccard(fast, ref, 1.0) >= 0.99
    return ref


def test_custom_module_with_any_kernels_matches_direct_computation():
    torch.manual_seed(0)
    baseline = Mixed()
    target = _target_of(baseline)
    n = sum(m.out_channels * m.in_channels // m.groups for m in target.modules() if isinstance(m, nn.Conv2d))
    ref = _agree(baseline, target, 2, 100)
    assert len(ref) == n and np.abs(ref).max() > 0


BUILT_IN = {"MSRResNet": lambda: MSRResNet(num_feat=8, num_block=1, upscale=2),
            "SRCNNStyle": lambda: SRCNNStyle((8, 8), upscale=2),
            "RRDBNet": lambda: RRDBNet(3, 3, scale=2, num_feat=8, num_block=1, num_grow_ch=4),
            "SRVGGNetCompact": lambda: SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2),
            "EDSR": lambda: EDSR(num_feat=8, num_block=1, upscale=2, img_range=1.0)}


@pytest.mark.parametrize("name", list(BUILT_IN))
def test_builtin_pairs_from_checkpoints(name, tmp_path):
    torch.manual_seed(0)
    base = BUILT_IN[name]()
    target = _target_of(base)
    b, t = save_checkpoint(tmp_path / "b.pth", base), save_checkpoint(tmp_path / "t.pth", target)
    _agree(*load_pair(b, t), 2, 12, ref_source=(b, t))


@pytest.mark.skipif(not spandrel_fallback.available(), reason="spandrel extra not installed")
@pytest.mark.parametrize("arch", ["SwinIR", "SPAN"])
def test_spandrel_pairs(arch, tmp_path):
    spandrel_fallback.import_spandrel()
    from spandrel.architectures.SPAN import SPAN
    from spandrel.architectures.SwinIR import SwinIR

    torch.manual_seed(0)
    base = SwinIR(img_size=8, embed_dim=8, depths=[1], num_heads=[2], window_size=4, mlp_ratio=2.0, upscale=2,
                  upsampler="pixelshuffledirect") if arch == "SwinIR" else \
        SPAN(num_in_ch=3, num_out_ch=3, feature_channels=8, upscale=2)
    target = _target_of(base)
    b, t = save_checkpoint(tmp_path / "b.pth", base), save_checkpoint(tmp_path / "t.pth", target)
    mb, mt = load_pair(b, t)
    assert mt.faig_arch == arch
    _agree(mb, mt, 2, 8, ref_source=(b, t))


def test_scores_over_a_dataset_for_modules():
    torch.manual_seed(0)
    baseline = Mixed()
    target = _target_of(baseline)

    pairs = [_inputs(2, seed=s) for s in range(2)]
    blurs, noises, gts = ([p[i] for p in pairs] for i in range(3))
    data = DatasetRoot(["a.png", "b.png"], gts, {"blur": blurs, "noise": noises})
    blur, noise = original_faig_scores(baseline, target, data, total_step=4)
    np.testing.assert_allclose(blur, -noise, atol=1e-6 * np.abs(blur).max())
