"""Substitution and modulation of chosen filters: the modulated state dict, the modulator, DNI, the λ sweeps and
the exported modulated models."""
import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.archs import SRVGGNetCompact
from faig_helpers.checkpoint import load_model, load_pair
from faig_helpers.filters import FilterIndex
from faig_helpers.methods import RandomFilters
from faig_helpers.modulation import FilterModulator, dni_state_dict, lambda_sweep, matched_strength, \
    modulated_state_dict
from faig_helpers.published import SHIPPED, realcugan_path

from helpers import tiny_data, tiny_pair, tiny_panel

LAM = 0.6


@pytest.fixture
def models(tmp_path):
    return load_pair(*tiny_pair(tmp_path))


@pytest.fixture
def panel(tmp_path):
    return tiny_panel(tmp_path)


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


def test_dni_ends_are_the_baseline_and_the_target(tmp_path):
    mb, mt = load_pair(*tiny_pair(tmp_path))
    sb, st = mb.state_dict(), mt.state_dict()
    for k, v in dni_state_dict(sb, st, 0.0).items():
        assert torch.equal(v, sb[k])
    for k, v in dni_state_dict(sb, st, 1.0).items():
        assert torch.equal(v, st[k])
    mod = FilterModulator(mb, mt)
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(mod.dni(1.0)(x), mt(x))
        assert torch.allclose(mod.dni(0.0)(x), mb(x), atol=1e-6)
        half = load_model(dni_state_dict(sb, st, 0.5))
        assert torch.allclose(mod.dni(0.5)(x), half(x), atol=1e-5)
    with pytest.raises(fl.ConfigError):
        mod.dni(float("inf"))


def test_dni_sweep_and_matched_strength(tmp_path):
    mb, mt = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(2, size=16)
    mod = FilterModulator(mb, mt)
    sweep = fl.dni_sweep(mod, data, [0.0, 0.5, 1.0])
    assert len(sweep) == 6 and set(sweep.filters) == {"all"}
    at1 = sweep[sweep.lam == 1.0]
    assert (at1.output_difference < 1e-9).all() and (at1.colour_shift == 0).all()
    # synthetic curves: FAIG's noise set restores noisy inputs 20 → 30 dB linearly and keeps blurry at 28;
    # DNI goes 22 → 30 on noisy and 24 → 28 on blurry. Level: 22 + ½·8 = 26 → λ_FAIG 0.6, λ_DNI 0.5
    lam = np.array([0.0, 0.5, 1.0])
    rows = [dict(filters="noise", lam=v, input="noisy", psnr=20 + 10 * v) for v in lam]
    rows += [dict(filters="noise", lam=v, input="blurry", psnr=28.0) for v in lam]
    import pandas as pd

    f = pd.DataFrame(rows)
    w = pd.DataFrame([dict(filters="all", lam=v, input="noisy", psnr=22 + 8 * v) for v in lam]
                     + [dict(filters="all", lam=v, input="blurry", psnr=24 + 4 * v) for v in lam])
    m = matched_strength(f, w, "noise", 0.5)
    assert m["level"] == pytest.approx(26) and m["lam_FAIG"] == pytest.approx(0.6)
    assert m["lam_DNI"] == pytest.approx(0.5) and m["FAIG_blurry"] == pytest.approx(28)
    assert m["DNI_blurry"] == pytest.approx(26)


def test_lambda_sweep_is_exact_at_one(panel):
    df, grids = lambda_sweep(panel.mod, panel.scores, panel.data, [0.0, 1.0, 1.5], proportion=10,
                             example=lambda d: panel.input(d, 0))
    assert len(df) == 2 * 3 * 2 and len(grids["blur"]) == 3
    at_one = df[df.lam == 1.0]
    assert (at_one.output_difference < 1e-9).all()
    assert (df[df.lam == 0.0].output_difference > 0).any()


def test_spandrel_loads_an_exported_checkpoint(tmp_path):
    from faig_helpers.archs import spandrel_fallback

    torch.manual_seed(0)
    base = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2)
    target = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2)
    out = fl.export_modulated(base, target, tmp_path / "m.pth", LAM, degradation_name="noise", percent=10,
                              ranking=RandomFilters(base, target).attribute())
    ours = load_model(out)
    x = torch.rand(1, 3, 8, 8)
    if spandrel_fallback.available():
        spandrel = spandrel_fallback.import_spandrel()
        desc = spandrel.ModelLoader().load_from_file(str(out))
        with torch.no_grad():
            assert torch.allclose(desc.model.eval()(x), ours(x), atol=1e-5)
    with torch.no_grad():
        assert not torch.allclose(ours(x), target(x), atol=1e-6)


def test_an_exported_modulated_realcugan_loads_in_spandrel_itself(tmp_path):
    from faig_helpers.archs.spandrel_fallback import import_spandrel
    from faig_helpers.modulation import FilterModulator, export_modulated

    b, t = load_pair(*(realcugan_path(level) for level in SHIPPED))
    top = np.arange(0, 178_752, 97)  # any set, transposed-conv filters among them
    path = export_modulated(b, t, tmp_path / "m.pth", 0.5, ranking=np.concatenate(
        [top, np.setdiff1d(np.arange(178_752), top)]), percent=100 * len(top) / 178_752)
    descriptor = import_spandrel().ModelLoader().load_from_file(path)
    assert descriptor.architecture.id == "RealCUGAN" and descriptor.scale == 2
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = descriptor.model.eval()(x)
    want = FilterModulator(b, t).modulate(top, 0.5)(x)
    assert torch.allclose(got, want, atol=1e-5)
