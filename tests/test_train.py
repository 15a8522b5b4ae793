"""train(): masked re-training, the degradation mix of a batch, and intermediate EMA checkpoints in BasicSR's
experiment layout (TrainConfig.checkpoints_dir)."""
import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.archs import MSRResNet, SRVGGNetCompact
from faig_helpers.checkpoint import experiment_checkpoint, experiment_network, load_model, load_state_dict
from faig_helpers.degradations import CLEAN, degradation
from faig_helpers.errors import ConfigError
from faig_helpers.filters import FilterIndex
from faig_helpers.images import write_image
from faig_helpers.train import TrainConfig, train

from helpers import saved_state_dict


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
        sd = saved_state_dict(out, key)
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


@pytest.mark.parametrize("exclusive", [False, True])
def test_training_mix_proportions(exclusive):
    from faig_helpers.train import degrade_batch

    hr = torch.rand(1, 3, 16, 16).expand(4000, 3, 16, 16).contiguous()
    g = torch.Generator().manual_seed(0)
    p = (1 / 3, 1 / 3) if exclusive else (0.5, 0.5)
    lr = degrade_batch(hr, dict(zip(("blur", "noise"), p)), g, 2, exclusive=exclusive)
    clean, blurred = CLEAN.apply(hr[:1]), degradation("blur").apply(hr[:1])
    is_clean = (lr == clean).flatten(1).all(1)
    is_blur = (lr == blurred).flatten(1).all(1)
    noisy = ~is_clean & ~is_blur  # noise only, or blur then noise
    want = (1 / 3, 1 / 3, 1 / 3) if exclusive else (0.25, 0.25, 0.5)
    for got, w in zip((is_clean, is_blur, noisy), want):
        assert abs(got.float().mean().item() - w) < 0.03
    for scale in (3, 4):  # any scale: LR size = HR size / scale
        assert degrade_batch(hr[:4, :, :12, :12], {"blur": 0.5, "noise": 0.5}, g, scale).shape[-1] == 12 // scale


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    for k in range(2):
        write_image(tmp_path / "imgs" / f"{k}.png", (rng.random((32, 32, 3)) * 255).astype(np.uint8))
    return tmp_path / "imgs"


def _cfg(exp, **kw):
    return TrainConfig(iters=6, batch=2, patch=16, lr=1e-3, seed=3, checkpoints_dir=str(exp), checkpoint_every=2,
                       mix={"noise": 0.5, "jpeg": 0.5}, exclusive=True, **kw)


def test_experiment_folder_has_every_checkpoint_and_the_last_is_the_model(tmp_path, images):
    exp = tmp_path / "experiments" / "tiny_x2"
    (exp / "models").mkdir(parents=True)
    torch.save({"params_ema": {}}, exp / "models" / "net_g_100.pth")  # left by an earlier, longer run
    torch.manual_seed(0)
    net = SRVGGNetCompact(num_feat=4, num_conv=1, upscale=2)
    out = train(net, images, tmp_path / "model.pth", _cfg(exp), progress=False)
    files = sorted(p.name for p in (exp / "models").iterdir())
    assert files == ["net_g_2.pth", "net_g_4.pth", "net_g_6.pth"]
    assert experiment_checkpoint(exp).name == "net_g_6.pth"
    for f in files:
        assert set(torch.load(exp / "models" / f, weights_only=True)) == {"params_ema"}
    final = load_state_dict(out)  # params_ema of the saved model
    last = load_state_dict(exp)
    assert final.keys() == last.keys() and all(torch.equal(final[k], last[k]) for k in final)
    first = load_state_dict(exp / "models" / "net_g_2.pth")
    assert not all(torch.equal(first[k], last[k]) for k in final)  # the checkpoints follow training
    assert experiment_network(exp) == dict(type="SRVGGNetCompact", num_in_ch=3, num_out_ch=3, num_feat=4,
                                           num_conv=1, upscale=2, act_type="prelu")
    model = load_model(exp)
    assert isinstance(model, SRVGGNetCompact) and model.num_conv == 1
    assert not list(exp.glob(".*tmp*")) and not list((exp / "models").glob(".*tmp*"))  # written atomically


def test_without_checkpoints_dir_nothing_is_kept(tmp_path, images):
    torch.manual_seed(0)
    cfg = _cfg(tmp_path / "exp")
    cfg.checkpoints_dir = None
    train(SRVGGNetCompact(num_feat=4, num_conv=1, upscale=2), images, tmp_path / "m.pth", cfg, progress=False)
    assert not (tmp_path / "exp").exists() and (tmp_path / "m.pth").is_file()


def test_checkpoint_every_must_be_positive(tmp_path, images):
    cfg = _cfg(tmp_path / "exp")
    cfg.checkpoint_every = 0
    with pytest.raises(ConfigError, match="checkpoint_every"):
        train(SRVGGNetCompact(num_feat=4, num_conv=1, upscale=2), images, tmp_path / "m.pth", cfg, progress=False)
