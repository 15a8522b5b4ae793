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
    assert isinstance(net, MSRResNet)
    assert torch.equal(net.state_dict()["body.1.conv2.weight"], sd["body.1.conv2.weight"])


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


def test_safetensors_and_explicit_param_key(tmp_path, sd):
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in sd.items()}, tmp_path / "m.safetensors")
    net = load_model(tmp_path / "m.safetensors")
    assert isinstance(net, MSRResNet) and torch.equal(net.state_dict()["conv_last.bias"], sd["conv_last.bias"])
    other = {k: v + 1 for k, v in sd.items()}
    torch.save({"params": other, "params_ema": sd}, tmp_path / "both.pth")
    assert torch.equal(load_state_dict(tmp_path / "both.pth", "params")["conv_first.bias"], other["conv_first.bias"])
    assert torch.equal(load_model(tmp_path / "both.pth", param_key="params").conv_first.bias, other["conv_first.bias"])
    with pytest.raises(CheckpointError, match=r"both.pth: no 'params_x' in the checkpoint \(top-level keys: "):
        load_state_dict(tmp_path / "both.pth", "params_x")
    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    with pytest.raises(CheckpointError, match="bad.safetensors: not a safetensors file"):
        load_state_dict(tmp_path / "bad.safetensors")


def _experiment(root, net, iters, yml: str | None):
    (root / "models").mkdir(parents=True)
    for it in iters:
        save_checkpoint(root / "models" / f"net_g_{it}.pth", {k: v + it for k, v in net.state_dict().items()},
                        net.state_dict())
    if yml is not None:
        (root / "train_EDSR_x2.yml").write_text(yml)
    return root


def test_basicsr_experiment_folder(tmp_path):
    from faig_helpers.archs import EDSR

    net = EDSR(num_feat=8, num_block=1, upscale=2, res_scale=0.1, img_range=1.0)
    yml = ("name: EDSR_x2\nscale: 2\nnetwork_g:\n  type: EDSR\n  num_in_ch: 3\n  num_out_ch: 3\n  num_feat: 8\n"
           "  num_block: 1\n  upscale: 2\n  res_scale: 0.1\n  img_range: 1.\n  rgb_mean: [0.5, 0.5, 0.5]\n")
    exp = _experiment(tmp_path / "experiments" / "EDSR_x2", net, [500, 10000, 2000], yml)
    model = load_model(exp)  # the highest iteration, params_ema, arch from network_g
    assert model.body[0].res_scale == 0.1 and model.img_range == 1.0 and model.mean.flatten().tolist() == [0.5] * 3
    assert torch.equal(model.conv_first.bias, net.conv_first.bias + 10000)
    assert torch.equal(load_model(exp, param_key="params").conv_first.bias, net.conv_first.bias)
    save_checkpoint(exp / "models" / "net_g_latest.pth", net.state_dict())
    assert torch.equal(load_model(exp).conv_first.bias, net.conv_first.bias)  # net_g_latest.pth wins
    bare = _experiment(tmp_path / "noyaml", MSRResNet(num_feat=8, num_block=1, upscale=2), [1], None)
    assert isinstance(load_model(bare), MSRResNet)  # no options YAML: inferred from the keys
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="empty: no models/net_g_latest.pth"):
        load_model(tmp_path / "empty")


def test_explicit_arch_modules_and_state_dicts(tmp_path, sd):
    torch.save({"params_ema": sd}, tmp_path / "m.pth")
    net = load_model(tmp_path / "m.pth", arch={"type": "MSRResNet", "num_feat": 8, "num_block": 2, "upscale": 2})
    assert isinstance(net, MSRResNet)
    with pytest.raises(CheckpointError, match=r"m.pth: the state dict for MSRResNet does not fit MSRResNet: "
                                              r"'conv_first.weight' has shape \(8, 3, 3, 3\), the network "
                                              r"\(4, 3, 3, 3\)"):
        load_model(tmp_path / "m.pth", arch={"type": "MSRResNet", "num_feat": 4, "num_block": 2, "upscale": 2})
    own = torch.nn.Sequential(torch.nn.Conv2d(3, 12, 3, padding=1), torch.nn.PixelShuffle(2)).train()
    assert load_model(own) is own and not own.training
    b, t = load_pair(own, copy_of(own))
    assert b is own and isinstance(t, torch.nn.Sequential)
    with pytest.raises(CheckpointError, match=r"baseline and target do not match: '0.weight' has shape"):
        load_pair(own, torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.PixelShuffle(2)))
    assert isinstance(load_model(sd), MSRResNet)  # a state dict as the source


def test_save_any_module_state_dict(tmp_path):
    own = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.PReLU())
    save_checkpoint(tmp_path / "own.pth", own, own.state_dict())
    raw = torch.load(tmp_path / "own.pth", weights_only=True)
    assert set(raw) == {"params_ema", "params"} and list(raw["params_ema"]) == ["0.weight", "0.bias", "1.weight"]
    with pytest.raises(CheckpointError, match="must be a non-empty state dict"):
        save_checkpoint(tmp_path / "none.pth", {})


def copy_of(module):
    import copy
    return copy.deepcopy(module)
