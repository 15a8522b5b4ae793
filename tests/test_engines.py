"""Where the per-image work runs: the local engine's worker count and threads, engine names and options, the engine
passed through the set-up and the CLI; and engine="ray" on ONE local Ray instance for the whole test session
(``ray.init(num_cpus=2)``, ~3 s and 0.6 GB to start): the same scores as the thread pool, bit for bit; a killed
worker's task retried; runs resumed across engines; the CLI and checkpoint sweeps on Ray."""
import os
import signal
import sys

import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.__main__ import main
from faig_helpers.checkpoint import load_pair
from faig_helpers.engines import WORKERS_ENV, LocalEngine, RayEngine, cpu_workers
from faig_helpers.errors import ConfigError, EngineError
from faig_helpers.methods import FAIG

from helpers import save_tiny_root, tiny_data, tiny_pair
from sweep_helpers import Interrupted, Recording, tiny_experiment

try:
    import ray
except ImportError:
    ray = None
else:
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers cannot import the tests' modules

#: the tests on Ray: skipped without it
needs_ray = pytest.mark.skipif(ray is None, reason="Ray is not installed (make test installs it: "
                                                   "pip install -c constraints.txt -e '.[ray]')")


@pytest.fixture(params=["srresnet", "srcnn_style"])
def pair(request, tmp_path):
    b, t = tiny_pair(tmp_path, request.param)
    return (b, t, *load_pair(b, t))


def test_images_at_once_is_its_own_setting_not_the_intra_op_thread_count(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # e.g. OMP_NUM_THREADS=1: every image on one thread, still one image per CPU
        assert cpu_workers() == len(os.sched_getaffinity(0))
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert cpu_workers() == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(WORKERS_ENV, bad)
        with pytest.raises(ConfigError, match=WORKERS_ENV):
            cpu_workers()


def test_parallel_images_give_the_same_scores(pair):
    *_, baseline, target = pair
    data = tiny_data(4)
    f = FAIG(baseline, target)
    threads = torch.get_num_threads()
    one = f.attribute(data, n_steps=6, quadrature="riemann_middle", progress=False, engine=LocalEngine(1))
    two = f.attribute(data, n_steps=6, quadrature="riemann_middle", progress=False, engine=LocalEngine(2))
    assert torch.get_num_threads() == threads  # restored after the parallel run
    np.testing.assert_allclose(two.score("blur"), one.score("blur"), rtol=1e-4,
                               atol=1e-7 * np.abs(one.score("blur")).max())
    assert set(two.top("blur", 1)) == set(one.top("blur", 1))


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


# ---------------------------------------------------------------- engine="ray", on one local instance

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


@needs_ray
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


@needs_ray
def test_a_killed_worker_is_retried_and_the_scores_are_unchanged(ray_session, tiny):
    tmp, *_, models, data = tiny
    marker = tmp / "killed-once"
    local = fl.FAIG(*models).attribute(data, progress=False, engine=LocalEngine())
    got = fl.FAIG(*models).attribute(data, progress=False, engine=Killing(RayEngine(max_retries=2), marker, 2))
    assert marker.exists(), "the worker running image 2 was killed"
    _same(got, local)


@needs_ray
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


@needs_ray
def test_cli_rank_on_ray_writes_the_rankings_of_local(ray_session, tiny, tmp_path):
    tmp, b, t, *_ = tiny
    save_tiny_root(tiny_data(3), tmp_path / "root")
    common = ["rank", "--baseline", str(b), "--target", str(t), "--dataset-root", str(tmp_path / "root")]
    main([*common, "--out", str(tmp_path / "local"), "--engine", "local"])
    main([*common, "--out", str(tmp_path / "ray"), "--engine", "ray", "--gpus-per-task", "0"])
    for name in ("blur_index.txt", "noise_index.txt", "blur_score.npy", "noise_score.npy", "per_image.npz"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


@needs_ray
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


@needs_ray
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


@needs_ray
def test_gpu_tasks_on_a_cluster_without_gpus_are_an_error_not_a_hang(ray_session, tiny):
    *_, models, data = tiny
    with pytest.raises(fl.errors.EngineError, match="gpus_per_task=0.5, but the Ray cluster has 0 GPUs"):
        fl.FAIG(*models).attribute(data, progress=False, engine=RayEngine(gpus_per_task=0.5))
