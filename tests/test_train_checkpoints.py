"""train(): intermediate EMA checkpoints in BasicSR's experiment layout (TrainConfig.checkpoints_dir)."""
import numpy as np
import pytest
import torch

from faig_helpers.archs import SRVGGNetCompact
from faig_helpers.checkpoint import experiment_checkpoint, experiment_network, load_model, load_state_dict
from faig_helpers.errors import ConfigError
from faig_helpers.images import write_image
from faig_helpers.train import TrainConfig, train


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
