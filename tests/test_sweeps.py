"""Checkpoint sweeps (which checkpoints, in which order; one ranking each; resume), on the local engine. The same
on Ray: tests/test_engines.py; through the CLI: tests/test_cli.py."""
import json
import shutil

import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.checkpoint import save_checkpoint
from faig_helpers.engines import LocalEngine
from faig_helpers.errors import CheckpointError, ConfigError
from faig_helpers.sweeps import checkpoints_arch

from helpers import tiny_data, tiny_pair
from sweep_helpers import SPEC, Interrupted, Recording, tiny_experiment


def _ckpt(path, value=0.0):
    return save_checkpoint(path, {"conv.weight": torch.full((2, 2, 3, 3), value)})


def test_experiment_checkpoints_in_iteration_order_latest_only_when_new(tmp_path):
    models = tmp_path / "exp" / "models"
    for it in (1000, 500, 10000, 1500):
        _ckpt(models / f"net_g_{it}.pth", it)
    _ckpt(models / "net_d_500.pth")  # the discriminator of a GAN run: not a generator checkpoint
    _ckpt(models / "net_g_latest.pth", 10000)  # BasicSR's copy of the last one
    want = [500, 1000, 1500, 10000]
    for source in (tmp_path / "exp", models):
        got = fl.sweeps.find_checkpoints(source)
        assert [c.iteration for c in got] == want and [c.stem for c in got] == [f"net_g_{i}" for i in want]
    _ckpt(models / "net_g_latest.pth", 12345)  # newer than the last numbered one: it is the last checkpoint
    got = fl.sweeps.find_checkpoints(tmp_path / "exp")
    assert [c.stem for c in got] == [f"net_g_{i}" for i in want] + ["net_g_latest"] and got[-1].iteration is None


def test_glob_and_list_sources(tmp_path):
    for name in ("run_b/ckpt_20.pth", "run_a/ckpt_3.pth", "run_a/ckpt_100.safetensors", "run_a/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        if name.endswith(".txt"):
            (tmp_path / name).write_text("x")
        else:
            _ckpt(tmp_path / name)
    got = fl.sweeps.find_checkpoints(str(tmp_path / "run_*" / "*"))
    assert [c.stem for c in got] == ["ckpt_3", "ckpt_20", "ckpt_100"] and [c.iteration for c in got] == [3, 20, 100]
    listed = [tmp_path / "run_b/ckpt_20.pth", tmp_path / "run_a/ckpt_3.pth"]
    assert [c.stem for c in fl.sweeps.find_checkpoints(listed)] == ["ckpt_20", "ckpt_3"]  # a list keeps its order


def test_checkpoint_source_errors_name_the_path(tmp_path):
    with pytest.raises(CheckpointError, match="not a BasicSR experiment folder"):
        fl.sweeps.find_checkpoints(tmp_path)
    with pytest.raises(CheckpointError, match=r"nothing\*.pth: no checkpoint files"):
        fl.sweeps.find_checkpoints(str(tmp_path / "nothing*.pth"))
    _ckpt(tmp_path / "a" / "net_g_5.pth")
    _ckpt(tmp_path / "b" / "net_g_5.pth")
    with pytest.raises(CheckpointError, match="have the same name 'net_g_5'"):
        fl.sweeps.find_checkpoints(str(tmp_path / "*" / "net_g_5.pth"))


def test_sweep_ranks_every_checkpoint_as_one_pair_and_resumes(tmp_path):
    b, exp = tiny_experiment(tmp_path, n=3)
    assert checkpoints_arch(exp) == SPEC and checkpoints_arch(exp / "models") == SPEC
    data = tiny_data(3)
    opts = dict(n_steps=8, quadrature="riemann_left")
    out = tmp_path / "sweep"
    stop = Recording(LocalEngine(), stop_after=4)  # 3 images a checkpoint: stops inside the second one
    with pytest.raises(Interrupted):
        fl.sweeps.rank_checkpoints(b, exp, data, out, engine=stop, progress=False, **opts)
    assert (out / "net_g_100" / "meta.json").is_file() and not (out / "net_g_200" / "meta.json").exists()
    rec = Recording(LocalEngine())
    sweep = fl.sweeps.rank_checkpoints(b, exp, data, out, engine=rec, progress=False, **opts)
    assert [len(c) for c in rec.calls] == [2, 3], "a completed checkpoint is skipped, a started one resumes"
    assert sweep.stems == ["net_g_100", "net_g_200", "net_g_300"] and sweep.iterations == [100, 200, 300]
    assert sweep.table().reused.tolist() == [True, False, False]
    assert not (out / "cache").exists(), "each checkpoint's per-image cache is removed once its ranking is saved"
    summary = json.loads((out / "sweep.json").read_text())
    assert [c["iteration"] for c in summary["checkpoints"]] == [100, 200, 300]
    for c, scores in zip(sweep.checkpoints, sweep.of("faig")):
        alone = fl.FAIG(*fl.load_pair(b, c.path)).attribute(data, progress=False, **opts)
        saved = fl.rankings.load_scores(out / c.stem, "faig")
        for d in data.degradations:
            assert np.array_equal(scores.score(d), alone.score(d)) and np.array_equal(saved.score(d), alone.score(d))
            assert (out / c.stem / f"{d}_index.txt").is_file()
    again = Recording(LocalEngine())
    assert fl.sweeps.rank_checkpoints(b, exp, data, out, engine=again, progress=False, **opts).table().reused.all()
    assert again.items == []


def test_sweep_of_several_methods_has_a_folder_per_method(tmp_path):
    b, exp = tiny_experiment(tmp_path, n=2, latest=False)
    sweep = fl.sweeps.rank_checkpoints(b, exp, tiny_data(2), tmp_path / "out", ["faig", "abs_filter_change"], n_steps=4,
                                quadrature="riemann_left", progress=False)
    for stem in ("net_g_100", "net_g_200"):
        for m in ("faig", "abs_filter_change"):
            assert sweep.folder(stem, m) == tmp_path / "out" / stem / m
            assert (tmp_path / "out" / stem / m / "blur_index.txt").is_file()
    with pytest.raises(ConfigError, match="not 'ig'"):
        sweep.of("ig")


def test_sweep_refuses_a_checkpoint_of_another_network(tmp_path):
    b, exp = tiny_experiment(tmp_path, n=2, latest=False)
    other, _ = tiny_pair(tmp_path, "srcnn_style")
    shutil.copy(other, exp / "models" / "net_g_300.pth")
    opts = dict(n_steps=2, quadrature="riemann_left", progress=False)
    with pytest.raises(CheckpointError, match="net_g_300.pth: the state dict for MSRResNet does not fit"):
        fl.sweeps.rank_checkpoints(b, exp, tiny_data(2), tmp_path / "out", **opts)  # the options' network_g
    with pytest.raises(CheckpointError, match="baseline.pth and .*net_g_300.pth do not match"):
        fl.sweeps.rank_checkpoints(b, str(exp / "models" / "*.pth"), tiny_data(2), tmp_path / "out2", **opts)
