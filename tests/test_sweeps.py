"""Checkpoint sweeps (which checkpoints, in which order; one ranking each; resume) and engine plumbing,
on the local engine. The same on Ray: tests/test_ray_engine.py."""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.__main__ import main
from faig_helpers.checkpoint import save_checkpoint
from faig_helpers.engines import LocalEngine, RayEngine
from faig_helpers.errors import CheckpointError, ConfigError, EngineError
from faig_helpers.sweeps import checkpoints_arch

from helpers import save_tiny_root, tiny_data, tiny_pair
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


def test_cli_sweep_writes_one_ranking_per_checkpoint(tmp_path, capsys):
    b, exp = tiny_experiment(tmp_path, n=2)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    args = ["rank", "--baseline", str(b), "--checkpoints", str(exp), "--dataset-root", str(tmp_path / "root"),
            "--steps", "4", "--quadrature", "riemann_left", "--out", str(tmp_path / "out")]
    main(args)
    assert "2 checkpoints (2 ranked, 0 already done)" in capsys.readouterr().err
    api = fl.sweeps.rank_checkpoints(b, exp, tmp_path / "root", tmp_path / "api", n_steps=4, quadrature="riemann_left",
                              progress=False)
    for stem in api.stems:
        for d in ("blur", "noise"):
            assert (tmp_path / "out" / stem / f"{d}_index.txt").read_text() == \
                (tmp_path / "api" / stem / f"{d}_index.txt").read_text()
    main(args)
    assert "2 checkpoints (0 ranked, 2 already done)" in capsys.readouterr().err


def test_engine_names_and_options(monkeypatch):
    make_engine = fl.engines.make_engine
    assert isinstance(make_engine(None), LocalEngine) and make_engine("local", workers=2).workers == 2
    ray_engine = fl.engines.make_engine("ray", address="auto", gpus_per_task=0.25)
    assert isinstance(ray_engine, RayEngine) and ray_engine.gpus_per_task == 0.25 and not ray_engine.started
    assert ray_engine.gpus_for(torch.device("cpu")) == 0.25 and RayEngine().gpus_for(torch.device("cuda")) == 1
    with pytest.raises(ConfigError, match="unknown engine 'dask'"):
        fl.engines.make_engine("dask")
    with pytest.raises(ConfigError, match="engine 'local'.*address"):
        fl.engines.make_engine("local", address="auto")
    with pytest.raises(ConfigError, match="apply to an engine given by name"):
        fl.engines.make_engine(LocalEngine(), workers=2)
    with pytest.raises(ConfigError, match="gpus_per_task must be ≥ 0"):
        RayEngine(gpus_per_task=-1)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(EngineError, match=r"needs Ray, which is not installed: pip install -c constraints.txt"):
        RayEngine().start()


def test_setup_and_cli_pass_the_engine_through(tmp_path, capsys):
    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    rec = Recording(LocalEngine())
    lab = fl.setup({"tiny": (b, t)}, dataset_root=tmp_path / "root", results_dir=tmp_path / "res",
                   figures_dir=tmp_path / "fig", device="cpu", methods=["faig"], n_steps=2, quadrature="riemann_left",
                   engine=rec)
    assert rec.calls == [[0, 1]] and lab.engine is rec
    with pytest.raises(ConfigError, match="unknown engine"):
        fl.setup({"tiny": (b, t)}, dataset_root=tmp_path / "root", engine="spark", rank=False)
    with pytest.raises(SystemExit):
        main(["rank", "--baseline", str(b), "--target", str(t), "--out", str(tmp_path / "o"), "--address", "auto",
              "--method", "abs_filter_change"])
    assert "--address need --engine ray" in capsys.readouterr().err


def test_a_method_moves_to_a_device_with_everything_it_keeps(tmp_path):
    """What a Ray worker does with a shipped method (checked on the meta device: no GPU needed)."""
    b, t = tiny_pair(tmp_path)
    for cls in (fl.FAIG, fl.methods.IntegratedGradients):
        m = cls(*fl.load_pair(b, t)).to("meta")
        tensors = [*m.path.theta.values(), *m.path.theta_bar.values(), *m.path.model.parameters(),
                   *getattr(m, "diff", {}).values()]
        assert m.device.type == m.path.device.type == "meta" and all(v.device.type == "meta" for v in tensors)


def test_cli_sweep_of_the_shipped_run_writes_one_ranking_per_checkpoint(tmp_path, capsys):
    """`rank --checkpoints` on the embedded experiment folder: one ranking per shipped checkpoint, per degradation
    of the pair's root (blur, noise, JPEG)."""
    sweep = fl.sweeps.embedded_sweep()
    stems = [p.stem for p in sorted((Path(sweep["checkpoints"]) / "models").glob("net_g_*.pth"))]
    small = fl.load_dataset(sweep["dataset_root"], limit=2).subset(size=12)  # the root's first images, cropped
    save_tiny_root(small, tmp_path / "root")
    main(["rank", "--baseline", str(sweep["baseline"]), "--checkpoints", str(sweep["checkpoints"]), "--dataset-root",
          str(tmp_path / "root"), "--degradations", "blur", "noise", "jpeg", "--steps", "2", "--quadrature",
          "riemann_middle", "--out", str(tmp_path / "out")])
    assert f"{len(stems)} checkpoints ({len(stems)} ranked, 0 already done)" in capsys.readouterr().err
    assert len(stems) >= 8
    n = len(fl.FilterIndex.from_module(fl.load_model(sweep["baseline"])))  # the shipped run's network
    for stem in stems:
        for d in ("blur", "noise", "jpeg"):
            order = [int(v) for v in (tmp_path / "out" / stem / f"{d}_index.txt").read_text().split()]
            assert sorted(order) == list(range(n))  # every filter, ranked once
