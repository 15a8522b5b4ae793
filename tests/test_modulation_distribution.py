import numpy as np
import pytest
import torch

from faig_helpers.archs import build_from_state_dict
from faig_helpers.methods import AbsoluteFilterChange, RandomFilters
from faig_helpers.checkpoint import load_pair
from faig_helpers.distribution import depth_test, layer_shares, positions
from faig_helpers.filters import FilterIndex
from faig_helpers.filters import top_count
from faig_helpers.modulation import lambda_sweep, modulated_state_dict
from faig_helpers.panel import ModulationPanel

from helpers import tiny_data, tiny_pair


@pytest.fixture
def panel(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    s = AbsoluteFilterChange(baseline, target).attribute()
    s.scores["noise"] = RandomFilters(baseline, target).attribute().score("noise")
    p = ModulationPanel(baseline, target, s, tiny_data(2, size=32), crop=12)
    p.models = (baseline, target)
    return p


def test_panel_callback_endpoints_against_independent_models(panel):
    baseline, target = panel.models
    data = panel.data
    x = data.inputs["blur"][1][..., 2:14, 2:14]  # the 12-pixel centre crop of a 16-pixel LR image
    assert torch.equal(panel.input("blur", 1), x)
    r1 = panel.update(1.0, "blur", 10, 1)
    with torch.no_grad():
        want_t = target(x)
    assert torch.equal(r1["output_tensor"], want_t)
    assert r1["difference"] < 1e-9 and r1["psnr"] == pytest.approx(r1["psnr_target"]) and r1["colour_shift"] == 0
    k = top_count(len(panel.mod.index), 10)
    idx = np.argsort(-panel.scores.score("noise"), kind="stable")[:k]
    sub = build_from_state_dict(modulated_state_dict(baseline.state_dict(), target.state_dict(), idx))
    r0 = panel.update(0.0, "noise", 10, 0)
    with torch.no_grad():
        assert torch.allclose(r0["output_tensor"], sub(panel.input("noise", 0)), atol=1e-6)
        assert not torch.allclose(r0["output_tensor"], target(panel.input("noise", 0)), atol=1e-4)
    assert r0["filters"] == k and r0["input"].shape == r0["output"].shape
    assert r0["psnr"] != pytest.approx(r0["psnr_target"])


def test_widget_updates_in_place(panel):
    import ipywidgets

    ui = panel.widget()
    assert isinstance(ui, ipywidgets.VBox)
    lam_slider, prop_slider, image = ui.children[0].children
    views = [col.children[0] for col in ui.children[2].children]
    before = views[1].value
    assert views[1].value == views[2].value  # λ = 1: the output is the target's
    lam_slider.value = 0.0
    assert views[1].value != before and views[2].value == before  # only the λ view changed
    assert not prop_slider.continuous_update  # the proportion recomputes on release only
    assert "λ = 0.0" in ui.children[2].children[1].children[1].value


def test_lambda_sweep_is_exact_at_one(panel):
    df, grids = lambda_sweep(panel.mod, panel.scores, panel.data, [0.0, 1.0, 1.5], proportion=10,
                             example=lambda d: panel.input(d, 0))
    assert len(df) == 2 * 3 * 2 and len(grids["blur"]) == 3
    at_one = df[df.lam == 1.0]
    assert (at_one.output_difference < 1e-9).all()
    assert (df[df.lam == 0.0].output_difference > 0).any()


def test_positions_and_shares():
    sd = {"a.weight": torch.zeros(2, 3, 3, 3), "b.weight": torch.zeros(4, 2, 3, 3), "c.weight": torch.zeros(1, 4, 3, 3)}
    fi = FilterIndex.from_state_dict(sd)
    pos = positions(fi, np.array([0, 5, 6, 13, 17]))
    assert pos.layer.tolist() == [0, 0, 1, 1, 2]
    assert pos.depth.tolist() == [0, 0, 0.5, 0.5, 1.0]
    assert pos.position.tolist() == [0, 5 / 6, 0, 7 / 8, 3 / 4]
    sh = layer_shares(fi, {"x": np.array([0, 6, 7, 17])})
    assert sh[sh.set == "x"].share.tolist() == [25.0, 50.0, 25.0]
    assert sh[sh.set == "all filters"].share.sum() == pytest.approx(100)


def test_depth_test_detects_a_deep_set():
    sd = {f"l{i}.weight": torch.zeros(8, 8, 3, 3) for i in range(6)}
    fi = FilterIndex.from_state_dict(sd)
    deep = np.arange(5 * 64, 5 * 64 + 20)  # all in the last layer
    shallow = np.arange(0, 20)
    t = depth_test(fi, {"deep": deep, "shallow": shallow}, n_permutations=500)
    assert t.depth == {"deep": 1.0, "shallow": 0.0} and t.spread["deep"] == 0.0
    assert t.p_deeper_than_random["deep"] < 0.01 and t.p_deeper["deep", "shallow"] < 0.01
    assert t.p_deeper_than_random["shallow"] > 0.9 and t.p_deeper["shallow", "deep"] > 0.9
    assert list(t.table().index) == ["deep", "shallow"]
