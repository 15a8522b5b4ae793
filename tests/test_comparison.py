"""Substitution comparison: the table's endpoints, the claims on it, and specificity beside the paper's measure."""
import numpy as np
import pandas as pd
import pytest
import torch

from faig_helpers.checkpoint import load_pair
from faig_helpers.comparison import compare, specificity, substitution_claims, table_value
from faig_helpers.filters import FilterIndex
from faig_helpers.methods import FilterScores
from faig_helpers.metrics import colour_shift, output_difference

from helpers import tiny_data, tiny_pair


@pytest.fixture
def models(tmp_path):
    return load_pair(*tiny_pair(tmp_path))


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
