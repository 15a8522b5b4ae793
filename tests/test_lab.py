"""The one notebook set-up: pairs, data, rankings and output folders from the common parameters."""
import pytest
import torch

import faig_helpers as fl

from helpers import save_tiny_root, tiny_data, tiny_pair


def test_setup_loads_pairs_data_and_rankings(tmp_path, monkeypatch):
    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    monkeypatch.setenv("FAIG_LAB_RESULTS_DIR", str(tmp_path / "env_results"))
    lab = fl.setup({"tiny": (str(b), str(t))}, dataset_root=tmp_path / "root", methods=["faig", "random"],
                   n_steps=2, quadrature="riemann_middle", device="cpu", figures_dir=tmp_path / "figs")
    p = lab.pair
    assert lab.net == "tiny" and p.dataset_name == "root" and p.degradations == ["blur", "noise"]
    assert lab.results == tmp_path / "env_results" and lab.figures == tmp_path / "figs"  # env beats default
    assert set(lab.rankings["tiny"]) == {"faig", "random"} and len(p.index) == len(lab.rankings["tiny"]["faig"])
    assert (lab.layout.rankings("tiny", "root", "faig") / "blur_index.txt").is_file()
    explicit = fl.setup({"tiny": (str(b), str(t))}, dataset_root=tmp_path / "root", rank=False,
                        results_dir=tmp_path / "explicit")
    assert explicit.results == tmp_path / "explicit"  # an explicit parameter beats the environment
    assert explicit.methods == list(fl.methods.PAPER_METHODS) and explicit.quadrature == fl.DEFAULT_QUADRATURE
    mods = fl.setup({"m": dict(baseline=p.baseline, target=p.target, dataset_root=tmp_path / "root")}, rank=False)
    assert torch.equal(next(iter(mods.pair.target.parameters())), next(iter(p.target.parameters())))


def test_setup_defaults_to_the_embedded_pairs():
    lab = fl.setup(rank=False)
    from faig_helpers.embedded import PAIRS

    assert list(lab.pairs) == list(PAIRS) and all(p.data.degradations for p in lab.pairs.values())


@pytest.mark.parametrize("kwargs, match", [
    (dict(pairs={}), "pairs is empty"),
    (dict(pairs={"x": ("a.pth",)}), r"pairs\['x'\]: expected \(baseline, target\)"),
    (dict(pairs={"x": {"baseline": "a.pth"}}), r"pairs\['x'\]: expected keys baseline, target"),
    (dict(net="nope"), "net 'nope' is not one of the pairs"),
    (dict(methods=["gradcam"]), "unknown attribution method 'gradcam'"),
    (dict(device="cuda:7"), "no CUDA device" if not torch.cuda.is_available() else "invalid device"),
])
def test_setup_bad_parameters_are_one_clear_error(kwargs, match):
    with pytest.raises(fl.FaigLabError, match=match):
        fl.setup(rank=False, **kwargs)
