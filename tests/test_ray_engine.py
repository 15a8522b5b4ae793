"""engine="ray" on ONE local Ray instance for the whole test session (``ray.init(num_cpus=2)``, ~3 s and
0.6 GB to start): the same scores as the thread pool, bit for bit; a killed worker's task retried; runs
resumed across engines; the CLI and checkpoint sweeps on Ray."""
import os
import signal
import sys

import numpy as np
import pytest

import faig_helpers as fl
from faig_helpers.__main__ import main
from faig_helpers.engines import LocalEngine, RayEngine
from faig_helpers.errors import EngineError

from helpers import save_tiny_root, tiny_data, tiny_pair
from sweep_helpers import Interrupted, Recording, tiny_experiment

ray = pytest.importorskip("ray", reason="Ray is not installed (make test installs it: "
                                        "pip install -c constraints.txt -e '.[ray]')")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers cannot import the tests' modules


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance for every test here; engines find it running and leave it running."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ray")
    b, t = tiny_pair(tmp)
    return tmp, b, t, fl.load_pair(b, t), tiny_data(4)


def _same(a, b):
    for d in a.degradations:
        assert np.array_equal(a.score(d), b.score(d)), f"{a.method} {d} scores differ"
        assert np.array_equal(a.per_image[d], b.per_image[d])
    if a.delta is not None:
        assert np.array_equal(a.delta, b.delta, equal_nan=True)


@pytest.mark.parametrize("method", ["faig", "ig"])
def test_ray_and_local_give_identical_scores(ray_session, tiny, method):
    *_, models, data = tiny
    local = fl.attribute(method, *models, data, progress=False, engine=LocalEngine())
    engine = RayEngine()
    on_ray = fl.attribute(method, *models, data, progress=False, engine=engine)
    _same(on_ray, local)
    engine.close()
    assert ray.is_initialized(), "an instance the caller started is left running"


class KillOnce:
    """A task wrapper whose worker SIGKILLs itself the first time it runs ``victim`` (marked by a file)."""

    def __init__(self, task, marker, victim):
        self.task, self.marker, self.victim = task, str(marker), victim

    def to(self, device):
        self.task = self.task.to(device)
        return self

    def __call__(self, item, model=None):
        if item == self.victim and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return self.task(item, model)


class Killing:
    def __init__(self, inner, marker, victim):
        self.inner, self.marker, self.victim = inner, marker, victim

    def map(self, task, items, model, device):
        return self.inner.map(KillOnce(task, self.marker, self.victim), items, model, device)


def test_a_killed_worker_is_retried_and_the_scores_are_unchanged(ray_session, tiny):
    tmp, *_, models, data = tiny
    marker = tmp / "killed-once"
    local = fl.FAIG(*models).attribute(data, progress=False, engine=LocalEngine())
    got = fl.FAIG(*models).attribute(data, progress=False, engine=Killing(RayEngine(max_retries=2), marker, 2))
    assert marker.exists(), "the worker running image 2 was killed"
    _same(got, local)


@pytest.mark.parametrize("first,then", [("local", "ray"), ("ray", "local")])
def test_a_run_resumes_from_the_cache_the_other_engine_wrote(ray_session, tiny, tmp_path, first, then):
    *_, models, data = tiny
    engines = {"local": LocalEngine, "ray": RayEngine}
    reference = fl.FAIG(*models).attribute(data, progress=False, engine=LocalEngine())
    with pytest.raises(Interrupted):
        fl.FAIG(*models).attribute(data, progress=False, cache_dir=tmp_path,
                                   engine=Recording(engines[first](), stop_after=2))
    assert len(list(tmp_path.rglob("*.npz"))) == 2
    rec = Recording(engines[then]())
    resumed = fl.FAIG(*models).attribute(data, progress=False, cache_dir=tmp_path, engine=rec)
    assert len(rec.items) == 2, "only the images the first engine did not finish are computed"
    _same(resumed, reference)


def test_cli_rank_on_ray_writes_the_rankings_of_local(ray_session, tiny, tmp_path):
    tmp, b, t, *_ = tiny
    save_tiny_root(tiny_data(3), tmp_path / "root")
    common = ["rank", "--baseline", str(b), "--target", str(t), "--dataset-root", str(tmp_path / "root")]
    main([*common, "--out", str(tmp_path / "local"), "--engine", "local"])
    main([*common, "--out", str(tmp_path / "ray"), "--engine", "ray", "--gpus-per-task", "0"])
    for name in ("blur_index.txt", "noise_index.txt", "blur_score.npy", "noise_score.npy", "per_image.npz"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_sweep_on_ray_resumes_an_interrupted_sweep(ray_session, tmp_path, capsys):
    b, exp = tiny_experiment(tmp_path, n=3)
    save_tiny_root(tiny_data(3), tmp_path / "root")
    out, data = tmp_path / "out", fl.load_dataset(tmp_path / "root")
    with pytest.raises(Interrupted):
        fl.sweeps.rank_checkpoints(b, exp, data, out, engine=Recording(RayEngine(), stop_after=5), progress=False)
    first = (out / "net_g_100" / "meta.json").stat().st_mtime_ns
    assert not (out / "net_g_200" / "meta.json").exists() and len(list((out / "cache").rglob("*.npz"))) == 2
    rec = Recording(RayEngine())
    sweep = fl.sweeps.rank_checkpoints(b, exp, data, out, engine=rec, progress=False)
    assert [len(c) for c in rec.calls] == [1, 3], "done checkpoints skipped, the started one resumed"
    assert (out / "net_g_100" / "meta.json").stat().st_mtime_ns == first
    main(["rank", "--baseline", str(b), "--checkpoints", str(exp), "--dataset-root", str(tmp_path / "root"),
          "--out", str(tmp_path / "cli"), "--engine", "local"])
    for stem in sweep.stems:
        for name in ("blur_index.txt", "noise_index.txt", "blur_score.npy", "noise_score.npy"):
            assert (out / stem / name).read_bytes() == (tmp_path / "cli" / stem / name).read_bytes(), (stem, name)
    main(["rank", "--baseline", str(b), "--checkpoints", str(exp), "--dataset-root", str(tmp_path / "root"),
          "--out", str(out), "--engine", "ray"])
    assert "3 checkpoints (0 ranked, 3 already done)" in capsys.readouterr().err


def test_unreachable_cluster_is_one_clear_line(monkeypatch):
    import socket

    with socket.socket() as s:  # a free port on this machine, which nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as in a fresh process
    with pytest.raises(EngineError, match=rf"cannot reach the Ray cluster at 127.0.0.1:{port} .*ray start --head"):
        RayEngine(address=f"127.0.0.1:{port}").start()
    with pytest.raises(fl.errors.EngineError, match="expected 'auto', HOST:PORT"):
        RayEngine(address="somewhere").start()


def test_gpu_tasks_on_a_cluster_without_gpus_are_an_error_not_a_hang(ray_session, tiny):
    *_, models, data = tiny
    with pytest.raises(fl.errors.EngineError, match="gpus_per_task=0.5, but the Ray cluster has 0 GPUs"):
        fl.FAIG(*models).attribute(data, progress=False, engine=RayEngine(gpus_per_task=0.5))
