"""The ablations (elimination switch, baseline choice, masked re-training), DNI, exported modulated models
(function, CLI, panel)."""
import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.ablations import random_baseline, retrain_locations, substitution_quality, with_elimination, \
    zero_baseline
from faig_helpers.archs import MSRResNet, SRVGGNetCompact
from faig_helpers.checkpoint import load_model, load_pair
from faig_helpers.__main__ import main
from faig_helpers.cli import modulate_main
from faig_helpers.filters import FilterIndex
from faig_helpers.images import write_image
from faig_helpers.methods import FAIG, AbsoluteFilterChange, RandomFilters
from faig_helpers.modulation import FilterModulator, dni_state_dict, matched_strength, modulated_state_dict
from faig_helpers.panel import ModulationPanel
from faig_helpers.train import TrainConfig, train

from helpers import save_tiny_root, tiny_data, tiny_pair

LAM = 0.6


def _sd(path, key="params_ema"):
    return torch.load(path, map_location="cpu", weights_only=True)[key]


def _by_hand(baseline_sd, target_sd, index_file, lam, percent):
    """The modulated state dict built without the library: the filters are the 4-D weights in state-dict
    order, row-major over (out, in); the top k = max(1, ⌊n·p/100⌋) lines of the index file move."""
    order = [int(line) for line in open(index_file).read().split()]
    weights = [k for k, v in target_sd.items() if k.endswith("weight") and v.ndim == 4]
    n = sum(target_sd[k].shape[0] * target_sd[k].shape[1] for k in weights)
    chosen = set(order[:max(1, int(n * percent / 100))])
    out = {k: v.clone() for k, v in target_sd.items()}
    g = 0
    for k in weights:
        o_n, i_n = target_sd[k].shape[:2]
        for o in range(o_n):
            for i in range(i_n):
                if g in chosen:
                    out[k][o, i] = lam * target_sd[k][o, i] + (1 - lam) * baseline_sd[k][o, i]
                g += 1
    return out, len(chosen)


@pytest.fixture
def pair_and_ranking(tmp_path):
    b, t = tiny_pair(tmp_path)
    n = len(FilterIndex.from_state_dict(_sd(t)))
    folder = tmp_path / "ranking"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for d in ("blur", "noise"):
        (folder / f"{d}_index.txt").write_text("\n".join(map(str, rng.permutation(n))) + "\n")
    return b, t, folder


def test_exported_checkpoint_equals_an_independent_construction(pair_and_ranking, tmp_path):
    b, t, folder = pair_and_ranking
    out = tmp_path / "m.pth"
    modulate_main(["--baseline", str(b), "--target", str(t), "--ranking", str(folder), "--degradation", "noise",
                   "--lambda", str(LAM), "--percent", "1", "--out", str(out)])
    want, k = _by_hand(_sd(b), _sd(t), folder / "noise_index.txt", LAM, 1)
    assert k >= 1
    ckpt = torch.load(out, map_location="cpu", weights_only=True)
    assert set(ckpt) == {"params_ema", "params"}
    for key in ("params_ema", "params"):
        got = ckpt[key]
        assert list(got) == list(_sd(t))
        for name in want:
            assert torch.equal(got[name], want[name]), name
    changed = sum(int((want[n] != _sd(t)[n]).any(dim=(-1, -2)).sum()) for n in want if want[n].ndim == 4)
    assert changed == k  # exactly the top-k filters moved (random perturbation: every filter differs)
    model = load_model(out)  # our loader, strict
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        ref = MSRResNet(num_feat=8, num_block=1, upscale=2)
        ref.load_state_dict(want)
        assert torch.allclose(model(x), ref(x), atol=1e-6)


def test_export_function_matches_cli_and_dni_ends(pair_and_ranking, tmp_path):
    b, t, folder = pair_and_ranking
    a = fl.export_modulated(b, t, tmp_path / "a.pth", LAM, degradation_name="noise", percent=1, ranking=folder)
    modulate_main(["--baseline", str(b), "--target", str(t), "--ranking", str(folder / "noise_index.txt"),
                   "--degradation", "noise", "--lambda", str(LAM), "--out", str(tmp_path / "c.pth")])
    for k, v in _sd(a).items():
        assert torch.equal(v, _sd(tmp_path / "c.pth")[k])
    for lam, ref in ((0.0, b), (1.0, t)):
        modulate_main(["--baseline", str(b), "--target", str(t), "--dni", "--lambda", str(lam),
                       "--out", str(tmp_path / "d.pth")])
        for k, v in _sd(tmp_path / "d.pth").items():
            assert torch.equal(v, _sd(ref)[k]), (lam, k)
    main(["modulate", "--baseline", str(b), "--target", str(t), "--dni", "--lambda", "0.25", "--out",
          str(tmp_path / "q.pth")])  # python -m faig_helpers modulate
    for k, v in _sd(tmp_path / "q.pth").items():
        assert torch.equal(v, 0.25 * _sd(t)[k] + 0.75 * _sd(b)[k])


def test_cli_modulate_ranks_with_faig_on_a_dataset_root(tmp_path):
    b, t = tiny_pair(tmp_path)
    root = tmp_path / "root"
    save_tiny_root(tiny_data(2, size=16), root)
    out = tmp_path / "m.pth"
    modulate_main(["--baseline", str(b), "--target", str(t), "--dataset-root", str(root), "--degradation", "blur",
                   "--lambda", "0", "--percent", "5", "--steps", "4", "--quadrature", "gausslegendre",
                   "--out", str(out)])
    mb, mt = load_pair(b, t)
    scores = FAIG(mb, mt).attribute(fl.load_dataset(root, clean=False), n_steps=4, quadrature="gausslegendre",
                                    progress=False)
    want = modulated_state_dict(mb.state_dict(), mt.state_dict(), scores.top("blur", 5), 0.0)
    for k, v in _sd(out).items():
        assert torch.equal(v, want[k])


@pytest.mark.parametrize("args, message", [
    (["--lambda", "nan", "--degradation", "noise", "--ranking", "R"], "--lambda"),
    (["--lambda", "0.5", "--ranking", "R"], "--degradation"),
    (["--lambda", "0.5", "--degradation", "noise"], "--ranking"),
    (["--lambda", "0.5", "--degradation", "jpeg", "--ranking", "R"], "jpeg_index.txt"),
    (["--lambda", "0.5", "--degradation", "noise", "--ranking", "R", "--percent", "200"], "percent"),
    (["--lambda", "0.5", "--degradation", "fog", "--ranking", "R"], "unknown degradation 'fog'"),
])
def test_cli_modulate_bad_input_is_one_line(pair_and_ranking, tmp_path, capsys, args, message):
    b, t, folder = pair_and_ranking
    args = [str(folder) if a == "R" else a for a in args]
    with pytest.raises(SystemExit) as e:
        modulate_main(["--baseline", str(b), "--target", str(t), "--out", str(tmp_path / "x.pth"), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "\n".join(err)
    assert not (tmp_path / "x.pth").exists()


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


def test_masked_training_changes_only_the_masked_entries(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        write_image(tmp_path / "imgs" / f"{i}.png", rng.random((24, 24, 3)))
    torch.manual_seed(0)
    net = MSRResNet(num_feat=8, num_block=1, upscale=2)
    init = {k: v.clone() for k, v in net.state_dict().items()}
    fi = FilterIndex.from_module(net)
    idx = np.array([0, 5, len(fi) - 1])
    masks = fi.masks(idx)
    cfg = TrainConfig(iters=3, batch=2, patch=16, lr=1e-2, ema_decay=0.5, mix={"blur": 1.0}, save_every=10**6)
    out = train(net, tmp_path / "imgs", tmp_path / "m.pth", cfg, progress=False, trainable=masks)
    for key in ("params", "params_ema"):
        sd = _sd(out, key)
        for name, v in sd.items():
            if name in masks:
                m = masks[name].expand_as(v)
                assert torch.equal(v[~m], init[name][~m]), (key, name)
            else:
                assert torch.equal(v, init[name]), (key, name)  # biases and unnamed weights frozen
        moved = [name for name in masks if not torch.equal(sd[name], init[name])]
        assert moved, key
    with pytest.raises(fl.ConfigError, match="not parameters"):
        train(MSRResNet(num_feat=8, num_block=1, upscale=2), tmp_path / "imgs", tmp_path / "x.pth", cfg,
              progress=False, trainable={"nope.weight": torch.ones(1)})


def test_retrain_locations_reuses_and_trains_everything_for_none(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    for i in range(2):
        write_image(tmp_path / "imgs" / f"{i}.png", rng.random((24, 24, 3)))
    torch.manual_seed(0)
    base = MSRResNet(num_feat=8, num_block=1, upscale=2).eval()
    cfg = TrainConfig(iters=2, batch=2, patch=16, lr=1e-2, ema_decay=0.0, save_every=10**6)
    locs = {"some": np.array([1, 2, 3]), "all": None}
    models = retrain_locations(base, locs, "noise", cfg, tmp_path / "out", image_folder=tmp_path / "imgs",
                               progress=False)
    sb = base.state_dict()
    assert not torch.equal(models["all"].state_dict()["conv_first.bias"], sb["conv_first.bias"])
    assert torch.equal(models["some"].state_dict()["conv_first.bias"], sb["conv_first.bias"])

    def no_training(*a, **k):
        raise AssertionError("retrained although a matching checkpoint exists")

    monkeypatch.setattr("faig_helpers.ablations.train", no_training)
    again = retrain_locations(base, locs, "noise", cfg, tmp_path / "out", image_folder=tmp_path / "imgs",
                              progress=False)
    for n in locs:
        for k, v in again[n].state_dict().items():
            assert torch.equal(v, models[n].state_dict()[k])


def test_elimination_switch_shares_the_attributions(tmp_path, monkeypatch):
    mb, mt = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(3, size=16)
    opts = dict(n_steps=4, quadrature="gausslegendre", progress=False, cache_dir=tmp_path / "cache")
    default = FAIG(mb, mt).attribute(data, **opts)
    plain_runner = FAIG(mb, mt, eliminate=False)
    monkeypatch.setattr(plain_runner, "attribute_image", lambda *a, **k: pytest.fail("A not taken from the cache"))
    plain = plain_runner.attribute(data, **opts)
    assert plain.info["eliminate"] is False and "eliminate" not in default.info
    for d in data.degradations:
        assert (plain.per_image[d] >= 0).all()  # A_D = Σ|G ⊙ Δθ|
        assert np.array_equal(plain.scores[d], plain.per_image[d].mean(0))
        assert not np.array_equal(plain.scores[d], default.scores[d])
    back = with_elimination(plain)
    for d in data.degradations:
        assert np.array_equal(back.scores[d], default.scores[d])
        assert np.array_equal(back.per_image[d], default.per_image[d])
    assert np.allclose(default.scores["blur"], -default.scores["noise"])
    with pytest.raises(fl.ConfigError):
        with_elimination(AbsoluteFilterChange(mb, mt).attribute())


def test_baseline_choice_helpers(tmp_path):
    mb, mt = load_pair(*tiny_pair(tmp_path))
    before = {k: v.clone() for k, v in mt.state_dict().items()}
    r1, r2, r3 = random_baseline(mt, 1), random_baseline(mt, 1), random_baseline(mt, 2)
    z = zero_baseline(mt)
    for k, v in mt.state_dict().items():
        assert torch.equal(v, before[k])  # the target is untouched
        assert torch.equal(r1.state_dict()[k], r2.state_dict()[k])  # seeded
        assert not torch.equal(r1.state_dict()[k], v)
        assert r1.state_dict()[k].shape == v.shape
        assert not z.state_dict()[k].any()
    assert any(not torch.equal(r1.state_dict()[k], r3.state_dict()[k]) for k in before)
    choices = fl.ablations.baseline_choices(mb, mt, 1)
    assert list(choices) == ["trained", "random", "zero"] and choices["trained"] is mb
    data = tiny_data(2, size=16)
    rankings = {n: AbsoluteFilterChange(b, mt).attribute() for n, b in choices.items()}
    rankings["same"] = rankings["trained"]
    t = substitution_quality({**choices, "same": mt}, mt, rankings, data, percent=10)
    assert len(t) == 4 * 2 * 2
    same = t[t.baseline == "same"]
    assert (same.output_difference < 1e-9).all() and (same.intensity_change == 0).all()
    assert np.isfinite(t[["psnr", "output_difference", "colour_shift", "mean_intensity"]].to_numpy()).all()
    zero_all = substitution_quality({"zero": choices["zero"]}, mt, {"zero": rankings["zero"]}, data, percent=100)
    by_hand = load_model({k: torch.zeros_like(v) if v.ndim == 4 else v for k, v in mt.state_dict().items()})
    with torch.no_grad():
        outs = [by_hand(x) for x in data.inputs["noise"]]
    levels = np.mean([float((o.clamp(0, 1) * 255).round().double().mean()) for o in outs])
    row = zero_all[(zero_all.masked == "blur") & (zero_all.input_degradation == "noise")]
    assert row.mean_intensity.item() == pytest.approx(levels, abs=1e-6)


@pytest.fixture
def panel(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    s = AbsoluteFilterChange(baseline, target).attribute()
    s.scores["noise"] = RandomFilters(baseline, target).attribute().score("noise")
    return ModulationPanel(baseline, target, s, tiny_data(2, size=32), crop=12, export_dir=tmp_path / "models",
                           name="tiny")


def test_panel_exports_the_model_it_shows(panel, tmp_path):
    b, t = panel.baseline.state_dict(), panel.target.state_dict()
    path = panel.export(0.3, "noise", 10)
    assert path.parent == tmp_path / "models" and path.name == "tiny_noise_top10pct_lambda0.30.pth"
    want = modulated_state_dict(b, t, panel.scores.top("noise", 10), 0.3)
    for key in ("params_ema", "params"):
        for k, v in _sd(path, key).items():
            assert torch.equal(v, want[k])
    x = panel.input("noise", 0)
    with torch.no_grad():
        assert torch.allclose(load_model(path)(x), panel.update(0.3, "noise", 10, 0)["output_tensor"], atol=1e-5)
    dni = panel.export(0.5, "noise", 10, mode="dni", folder=tmp_path / "other")
    assert dni == tmp_path / "other" / "tiny_dni_lambda0.50.pth"
    for k, v in _sd(dni).items():
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

