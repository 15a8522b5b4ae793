import numpy as np
import pandas as pd
import pytest
import torch

from faig_helpers.checkpoint import load_pair
from faig_helpers.filters import FilterIndex
from faig_helpers.methods import FilterScores
from faig_helpers.comparison import specificity, compare, substitution_claims, table_value
from faig_helpers.filters import top_count
from faig_helpers.metrics import colour_shift, gradient_map, output_difference, psnr
from faig_helpers.parameter_path import ParameterPath
from faig_helpers.modulation import FilterModulator, modulated_state_dict

from helpers import tiny_data, tiny_pair


@pytest.fixture
def models(tmp_path):
    return load_pair(*tiny_pair(tmp_path))


def test_modulated_state_dict_at_zero_copies_only_selected_filters(models):
    baseline, target = models
    sb, st = baseline.state_dict(), target.state_dict()
    fi = FilterIndex.from_state_dict(st)
    idx = np.array([0, 7, len(fi) - 1])
    sd = modulated_state_dict(sb, st, idx)
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
        sub.load_state_dict(modulated_state_dict(baseline.state_dict(), target.state_dict(), idx))
        want_0 = sub(x)
        sub.load_state_dict(modulated_state_dict(baseline.state_dict(), target.state_dict(), idx, 1.5))
        want_15 = sub(x)
    assert torch.equal(mod.modulate(idx, 1.0)(x), want_t)
    assert torch.allclose(mod.substitute(idx)(x), want_0, atol=1e-6)
    assert torch.allclose(mod.modulate(idx, 1.5)(x), want_15, atol=1e-6)
    assert torch.equal(mod.reset()(x), want_t)


def test_top_count_as_the_original():
    assert top_count(151_936, 1) == 1519 and top_count(156_224, 10) == 15622 and top_count(50, 0) == 0
    assert top_count(50, 1) == 1 and top_count(0, 5) == 0  # any p > 0 selects at least one filter
    with pytest.raises(ValueError, match="percent must be in"):
        top_count(10, 101)


def test_parameter_path_endpoints_are_exact(models):
    baseline, target = models
    path = ParameterPath(baseline, target)
    for n, p in target.named_parameters():
        assert torch.equal(path.params(0.0)[n], p.detach())
        assert torch.equal(path.params(1.0)[n], dict(baseline.named_parameters())[n].detach())
    x = torch.rand(1, 3, 10, 10)
    with torch.no_grad():
        assert torch.equal(path(x, path.params(0.0)), target(x))
        assert torch.allclose(path(x, path.params(1.0)), baseline(x), atol=1e-6)


def test_compare_endpoints(models):
    baseline, target = models
    data = tiny_data(2)
    n = len(FilterIndex.from_state_dict(target.state_dict()))
    rng = np.random.default_rng(0)
    scores = FilterScores("x", {"blur": rng.random(n), "noise": rng.random(n)})
    t = compare(baseline, target, {"x": scores}, data, (0, 100), progress=False)
    zero, full = t[t.proportion == 0], t[t.proportion == 100]
    assert (zero.output_difference == 0).all() and (zero.colour_shift == 0).all() and (zero.filters == 0).all()
    # 100%: every filter from the baseline, every bias from the target — built independently here
    sd = {k: (baseline.state_dict()[k] if v.ndim == 4 else v) for k, v in target.state_dict().items()}
    from faig_helpers.archs import build_from_state_dict
    mixed = build_from_state_dict(sd)
    with torch.no_grad():
        want = np.mean([output_difference(mixed(x), target(x))[0] for x in data.inputs["blur"]])
        shift = np.mean([colour_shift(mixed(x), target(x))[0] for x in data.inputs["blur"]])
    row = full[(full.masked == "blur") & (full.input == "blurry")].iloc[0]
    assert row.filters == n and row.output_difference == pytest.approx(want, rel=1e-4) and want > 0
    assert row.colour_shift == pytest.approx(shift, abs=1e-6)


def _table(values: dict) -> pd.DataFrame:
    """A compare()-shaped table from {(method, masked, input): (output_difference, colour_shift)} at 1%."""
    return pd.DataFrame([dict(method=m, proportion=1, masked=d, input_degradation=e, output_difference=v,
                              colour_shift=c)
                         for (m, d, e), (v, c) in values.items()])


def test_substitution_claims_on_a_small_table():
    t = _table({("faig", "blur", "blur"): (0.5, 1.0), ("faig", "blur", "noise"): (0.1, 1.0),
                ("faig", "noise", "blur"): (0.3, 3.0), ("faig", "noise", "noise"): (0.2, 4.0),
                ("random", "blur", "blur"): (0.4, 0.0), ("random", "noise", "noise"): (0.6, 0.0),
                ("mine", "blur", "blur"): (0.45, 0.0), ("mine", "noise", "noise"): (0.1, 0.0)})
    assert table_value(t, "faig", "noise", "blur", 1) == 0.3
    assert table_value(t, "faig", "noise", "noise", 1, "colour_shift") == 4.0
    c = substitution_claims(t, [1], max_colour_shift=2.0, subject="pair")
    got = {x.claim: (x.holds, x.measured) for x in c.items}
    assert got == {
        "1% deblur set: blurry > noisy": (True, "0.5 vs 0.1"),
        "1% deblur set: FAIG first on blurry inputs": (True, "FAIG 0.5 vs mine 0.45"),  # the best other method
        "1% denoise set: noisy > blurry": (False, "0.2 vs 0.3"),
        "1% denoise set: FAIG first on noisy inputs": (False, "FAIG 0.2 vs random 0.6"),
        "1% deblur set keeps colour (≤ 2 levels)": (True, "1.0 levels"),
        "1% denoise set keeps colour (≤ 2 levels)": (False, "3.5 levels"),  # mean over the inputs
    }
    assert {x.subject for x in c.items} == {"pair"} and all(x.reading for x in c.items if not x.holds)


def test_specificity_beside_the_papers_measure():
    """A set that breaks everything wins the paper's measure, not specificity; no value is NaN in the claims."""
    t = _table({("faig", "blur", "blur"): (0.5, 1.0), ("faig", "blur", "noise"): (0.1, 2.0),
                ("faig", "noise", "blur"): (0.0, 0.0), ("faig", "noise", "noise"): (0.2, 0.5),
                ("ig", "blur", "blur"): (3.0, 9.0), ("ig", "blur", "noise"): (2.5, 8.0),
                ("ig", "noise", "blur"): (1.0, 0.0), ("ig", "noise", "noise"): (1.5, 0.0)})
    t["psnr_lost"] = [0.5, 0.1, 0.0, 0.4, 6.0, 5.0, 1.0, 2.0]
    spec = specificity(t).set_index(["method", "masked"])
    assert spec.loc[("faig", "blur"), "specificity"] == pytest.approx(5.0)
    assert spec.loc[("ig", "blur"), "specificity"] == pytest.approx(1.2)
    assert spec.loc[("faig", "noise"), "specificity"] == np.inf  # changes no other output
    assert spec.loc[("ig", "blur"), "psnr_lost_own"] == 6.0 and spec.loc[("ig", "blur"), "psnr_lost_other"] == 5.0
    assert spec.loc[("faig", "blur"), "colour_other"] == 2.0
    got = {x.claim: (x.holds, x.measured) for x in substitution_claims(t, [1], 2.0).items}
    assert got["1% deblur set: FAIG first on blurry inputs"] == (False, "FAIG 0.5 vs IG 3")
    assert got["1% deblur set: FAIG the most specific"] == (True, "FAIG 5× vs IG 1.2×")
    assert got["1% denoise set: FAIG the most specific"] == (True, "FAIG ∞ (no other output changes) vs IG 1.5×")
    assert not any("nan" in m.lower() for _, m in got.values())


def test_colour_shift_in_8_bit_levels():
    a = torch.full((2, 3, 4, 4), 0.5)
    b = a.clone()
    b[0, 1] += 10 / 255  # green +10 levels on image 0
    b[1, 0, :2] -= 4 / 255  # red −4 levels on half of image 1 → −2 mean
    np.testing.assert_allclose(colour_shift(b, a), [10.0, 2.0], atol=1e-4)
    with pytest.raises(ValueError, match="one shape"):
        colour_shift(a, a[:1])


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
