"""Grafting (sufficiency) against an independent construction, the localizer table and the unit variants."""
import copy

import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.embedded import DATASET_ROOT, pair_paths
from faig_helpers.metrics import psnr


@pytest.fixture(scope="module")
def embedded():
    b, t = fl.load_pair(*pair_paths("srresnet"))
    data = fl.load_dataset(DATASET_ROOT).subset(3, 32)
    rankings = {"faig": fl.attribute("faig", b, t, data, n_steps=4, quadrature="riemann_middle", progress=False),
                "random": fl.attribute("random", b, t, data)}
    return b, t, data, rankings


def test_grafting_shares_equal_an_independent_computation(embedded):
    b, t, data, rankings = embedded
    table = fl.graft(b, t, rankings, data, (1, 5))
    fi = fl.FilterIndex.from_module(t)
    for method, p, d in (("faig", 1, "noise"), ("faig", 5, "blur"), ("random", 1, "blur")):
        model = copy.deepcopy(b)
        model.load_state_dict(fl.sufficiency.grafted_state_dict(b.state_dict(), t.state_dict(),
                                                                rankings[method].top(d, p), fi))
        with torch.no_grad():
            def mean_psnr(m):
                return np.mean([psnr(m(x), y, data.scale) for x, y in zip(data[d], data.gt)])
            pg, pb, pt = mean_psnr(model), mean_psnr(b), mean_psnr(t)
        row = table[(table.method == method) & (table.proportion == p) & (table.grafted == d)
                    & (table.input_degradation == d)].iloc[0]
        assert abs(row.share - (pg - pb) / (pt - pb)) <= 0.01 and abs(row.psnr - pg) <= 0.01
    clean = table[table.input_degradation == "clean"]
    no_gain = clean.psnr_target - clean.psnr_baseline < fl.sufficiency.MIN_GAIN
    assert len(clean) and (clean.share.isna() == no_gain).all()
    assert clean.note[clean.share.isna()].str.contains("no share").all()


def test_localizer_table_and_units(embedded):
    b, t, data, rankings = embedded
    sub = fl.compare(b, t, rankings, data, (1,), progress=False)
    table = fl.localizer_table(sub, fl.graft(b, t, rankings, data, (1,)), {"faig": 2.0})
    assert set(table.columns) >= {"necessity", "sufficiency", "specificity", "colour_substituted", "colour_grafted"}
    row = table[(table.method == "faig") & (table.set == "noise")].iloc[0]
    gain = sub[(sub.method == "faig") & (sub.masked == "noise") & (sub.input_degradation == "noise")].psnr_lost.item()
    assert row.seconds == 2.0 and row.necessity > 0 and gain > 0
    units = fl.unit_variants(b, t, rankings["faig"], data, "noise", 1.0, 0.5)
    assert units.unit.nunique() == 4 and (units.colour_shift >= 0).all()
    assert units[units.unit.str.startswith("output channels")].unit.iloc[0].split("(")[1].split(" ")[0].isdigit()
