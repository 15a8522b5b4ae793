import pytest
import torch

from faig_helpers.archs import MSRResNet, SRCNNStyle
from faig_helpers.checkpoint import CheckpointError, load_model, load_pair, load_state_dict, save_checkpoint


@pytest.fixture
def sd():
    return MSRResNet(num_feat=8, num_block=2, upscale=2).state_dict()


def test_params_ema_is_preferred(tmp_path, sd):
    other = {k: v + 1 for k, v in sd.items()}
    torch.save({"params": other, "params_ema": sd}, tmp_path / "m.pth")
    assert torch.equal(load_state_dict(tmp_path / "m.pth")["conv_first.weight"], sd["conv_first.weight"])


@pytest.mark.parametrize("wrap", [lambda s: {"params": s}, lambda s: s,
                                  lambda s: {"params": {"module." + k: v for k, v in s.items()}}])
def test_accepted_layouts(tmp_path, sd, wrap):
    torch.save(wrap(sd), tmp_path / "m.pth")
    net = load_model(tmp_path / "m.pth")
    assert isinstance(net, MSRResNet) and torch.equal(net.state_dict()["body.1.conv2.weight"], sd["body.1.conv2.weight"])


def test_save_round_trip_in_basicsr_format(tmp_path, sd):
    save_checkpoint(tmp_path / "out.pth", sd)
    raw = torch.load(tmp_path / "out.pth", weights_only=True)
    assert set(raw) == {"params_ema"} and list(raw["params_ema"]) == list(sd)
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary left behind


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_state_dict(tmp_path / "nope.pth")


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"this is not a pickle")
    with pytest.raises(CheckpointError, match="junk.pth: not a PyTorch checkpoint"):
        load_state_dict(tmp_path / "junk.pth")
    torch.save({"optimizer": {"lr": 1}}, tmp_path / "opt.pth")
    with pytest.raises(CheckpointError, match="expected 'params_ema', 'params' or a bare state dict"):
        load_state_dict(tmp_path / "opt.pth")


def test_unknown_architecture(tmp_path):
    torch.save({"params": {"encoder.weight": torch.zeros(4, 3, 3, 3)}}, tmp_path / "enc.pth")
    with pytest.raises(CheckpointError, match="enc.pth: unknown architecture"):
        load_model(tmp_path / "enc.pth")


def test_mismatched_pair_names_first_difference(tmp_path, sd):
    torch.save({"params_ema": sd}, tmp_path / "a.pth")
    torch.save({"params_ema": MSRResNet(num_feat=16, num_block=2, upscale=2).state_dict()}, tmp_path / "b.pth")
    with pytest.raises(CheckpointError, match=r"'conv_first.weight' has shape \(8, 3, 3, 3\) vs \(16, 3, 3, 3\)"):
        load_pair(tmp_path / "a.pth", tmp_path / "b.pth")
    torch.save({"params_ema": SRCNNStyle((8, 8)).state_dict()}, tmp_path / "c.pth")
    with pytest.raises(CheckpointError, match="key #0 is 'conv_first.weight' vs 'features.0.weight'"):
        load_pair(tmp_path / "a.pth", tmp_path / "c.pth")
    torch.save({"params_ema": MSRResNet(num_feat=8, num_block=3, upscale=2).state_dict()}, tmp_path / "d.pth")
    with pytest.raises(CheckpointError, match="do not match"):
        load_pair(tmp_path / "a.pth", tmp_path / "d.pth")
