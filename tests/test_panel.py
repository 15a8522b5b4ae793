"""The λ panel: its callback against independent models, the widget updated in place, and the model it exports."""
import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.archs import build_from_state_dict
from faig_helpers.checkpoint import load_model
from faig_helpers.filters import top_count
from faig_helpers.modulation import dni_state_dict, modulated_state_dict

from helpers import saved_state_dict, tiny_panel


@pytest.fixture
def panel(tmp_path):
    return tiny_panel(tmp_path)


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


def test_panel_exports_the_model_it_shows(panel, tmp_path):
    b, t = panel.baseline.state_dict(), panel.target.state_dict()
    path = panel.export(0.3, "noise", 10)
    assert path.parent == tmp_path / "models" and path.name == "tiny_noise_top10pct_lambda0.30.pth"
    want = modulated_state_dict(b, t, panel.scores.top("noise", 10), 0.3)
    for key in ("params_ema", "params"):
        for k, v in saved_state_dict(path, key).items():
            assert torch.equal(v, want[k])
    x = panel.input("noise", 0)
    with torch.no_grad():
        assert torch.allclose(load_model(path)(x), panel.update(0.3, "noise", 10, 0)["output_tensor"], atol=1e-5)
    dni = panel.export(0.5, "noise", 10, mode="dni", folder=tmp_path / "other")
    assert dni == tmp_path / "other" / "tiny_dni_lambda0.50.pth"
    for k, v in saved_state_dict(dni).items():
        assert torch.equal(v, dni_state_dict(b, t, 0.5)[k])
    r = panel.update(0.5, "noise", 10, 0, mode="dni")
    with torch.no_grad():
        assert torch.allclose(r["output_tensor"], load_model(dni)(x), atol=1e-5)
    with pytest.raises(fl.ConfigError):
        panel.update(0.5, "noise", mode="ig")


def test_panel_export_button(panel, tmp_path):
    ui = panel.widget()
    lam, _, _ = ui.children[0].children
    mode, button, said = ui.children[4].children
    lam.value = 0.2
    button.click()
    want = tmp_path / "models" / "tiny_blur_top1pct_lambda0.20.pth"
    assert want.is_file() and str(want) in said.value
    mode.value = "dni"
    assert "DNI" in ui.children[3].value
    button.click()
    assert (tmp_path / "models" / "tiny_dni_lambda0.20.pth").is_file()
