import numpy as np
import pytest
import torch

from faig_helpers.checkpoint import load_pair
from faig_helpers.filters import FilterIndex
from faig_helpers.metrics import gradient_map, output_difference, psnr
from faig_helpers.substitution import FilterModulator, n_selected, substituted_state_dict

from helpers import tiny_pair


@pytest.fixture
def models(tmp_path):
    return load_pair(*tiny_pair(tmp_path))


def test_substituted_state_dict_copies_only_selected_filters(models):
    baseline, target = models
    sb, st = baseline.state_dict(), target.state_dict()
    fi = FilterIndex.from_state_dict(st)
    idx = np.array([0, 7, len(fi) - 1])
    sd = substituted_state_dict(sb, st, idx)
    flat_new, flat_b, flat_t = fi.flatten(sd), fi.flatten(sb), fi.flatten(st)
    sel = np.zeros(len(fi), bool); sel[idx] = True
    assert torch.equal(flat_new[sel], flat_b[sel]) and torch.equal(flat_new[~sel], flat_t[~sel])
    for k in st:
        if k.endswith("bias"):
            assert torch.equal(sd[k], st[k])  # biases are never filters


def test_modulator_lambda_endpoints_and_reset(models):
    baseline, target = models
    x = torch.rand(1, 3, 12, 12)
    fi = FilterIndex.from_state_dict(target.state_dict())
    idx = np.arange(0, len(fi), 5)
    mod = FilterModulator(baseline, target)
    with torch.no_grad():
        want_t = target(x)
        sub = type(target)(**{"num_feat": 8, "num_block": 1, "upscale": 2}).eval()
        sub.load_state_dict(substituted_state_dict(baseline.state_dict(), target.state_dict(), idx))
        want_0 = sub(x)
        sub.load_state_dict(substituted_state_dict(baseline.state_dict(), target.state_dict(), idx, 1.5))
        want_15 = sub(x)
    assert torch.equal(mod.set(idx, 1.0)(x), want_t)
    assert torch.allclose(mod.set(idx, 0.0)(x), want_0, atol=1e-6)
    assert torch.allclose(mod.set(idx, 1.5)(x), want_15, atol=1e-6)
    assert torch.equal(mod.reset()(x), want_t)


def test_n_selected_as_the_original():
    assert n_selected(151_936, 1) == 1519 and n_selected(156_224, 10) == 15622


def test_gradient_map_central_differences_and_original_mode():
    img = torch.zeros(1, 3, 5, 5)
    img[0, 2, :, 3:] = 1.0  # blue step edge
    g = gradient_map(img, "original")[0, 0]
    assert g[2, 2].item() == pytest.approx(1.0, abs=1e-5) and g[2, 0].item() == pytest.approx(1e-3)
    gray = gradient_map(img, "gray")[0, 0]
    assert gray[2, 2].item() == pytest.approx(0.114, abs=2e-3)
    assert output_difference(img, img).tolist() == [0.0]
    with pytest.raises(ValueError, match="unknown gradient-map mode"):
        gradient_map(img, "hsv")


def test_psnr():
    a = torch.zeros(1, 3, 8, 8)
    b = a + 10 / 255
    assert psnr(a, b) == pytest.approx(20 * np.log10(255 / 10), abs=1e-6)
