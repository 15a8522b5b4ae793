"""The paper's ablations: the elimination switch, the choice of baseline, and re-training only the discovered
filter locations."""
import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.ablations import random_baseline, retrain_locations, substitution_quality, with_elimination, \
    zero_baseline
from faig_helpers.archs import MSRResNet
from faig_helpers.checkpoint import load_model, load_pair
from faig_helpers.images import write_image
from faig_helpers.methods import FAIG, AbsoluteFilterChange
from faig_helpers.train import TrainConfig

from helpers import tiny_data, tiny_pair


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
