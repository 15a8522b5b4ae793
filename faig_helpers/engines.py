"""Where the per-image work of an attribution runs.

Per-image attributions are additive, so a ranking splits into one task per (model pair, image) and the
reduce is a sum in image order: any engine gives the same scores, and any engine resumes from the
per-image cache another engine wrote. An engine's ``map(task, items, model, device)`` runs
``task(item, replica)`` for every item and yields ``(item, result)`` as results arrive (in any order).

* :class:`LocalEngine` (the default): a thread pool on this machine, one image per core.
* :class:`RayEngine` (optional extra ``faig-lab[ray]``): the same tasks on a local Ray instance or a Ray
  cluster, with CPUs and GPU fractions per task and tasks retried when a worker dies.

:func:`make_engine` / :func:`open_engine` turn a name (``"local"``, ``"ray"``) into an engine.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import io
import os
import queue
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Protocol

import torch
from torch import nn

from .errors import ConfigError, EngineError, FaigLabError
from .registry import Registry

__all__ = ["Engine", "LocalEngine", "RayEngine", "EngineError", "ENGINES", "RAY_INSTALL", "WORKERS_ENV", "cpu_workers",
           "make_engine", "open_engine"]

#: environment variable with the default number of images :class:`LocalEngine` runs at once on CPU
WORKERS_ENV = "FAIG_LAB_WORKERS"


def cpu_workers() -> int:
    """Images a :class:`LocalEngine` runs at once on CPU by default: ``$FAIG_LAB_WORKERS``, else the CPUs this
    process may run on (its affinity mask, e.g. a container's or ``taskset``'s share). Independent of the
    intra-op thread count (``OMP_NUM_THREADS``, ``torch.set_num_threads``): every image runs on one thread."""
    value = os.environ.get(WORKERS_ENV)
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(f"${WORKERS_ENV}={value!r}: expected a positive whole number of images at once")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


#: the engine classes :func:`make_engine` knows by name (a new engine: one class with ``map`` and ``close``, one
#: ``@ENGINES.register(name=...)``)
ENGINES: Registry[type] = Registry("engine", ConfigError)


class Engine(Protocol):
    """Runs the tasks of one attribution and yields ``(item, result)`` as they finish."""

    def map(self, task: Callable[[Any, nn.Module | None], Any], items: Sequence, model: nn.Module,
            device: torch.device) -> Iterator[tuple[Any, Any]]: ...


@ENGINES.register(name="local", order=10)
class LocalEngine:
    """Thread pool on this machine. On CPU, ``workers`` images run at once (default: :func:`cpu_workers`, one
    per available CPU), each task on exactly one intra-op thread whatever the worker count: the small
    convolutions of an SR net scale far better across images than inside one convolution, and a task's floating-point
    result then never depends on the worker count or on how busy the machine is (the same ranking files
    every run). On a GPU one image runs at a time. Each worker has its own replica of ``model``
    (``torch.func.functional_call`` swaps a module's parameters while it runs)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self._replicas: dict[int, list[nn.Module]] = {}

    def map(self, task: Callable[[Any, nn.Module | None], Any], items: Sequence, model: nn.Module,
            device: torch.device) -> Iterator[tuple[Any, Any]]:
        workers = self.workers or (cpu_workers() if device.type == "cpu" else 1)
        workers = max(1, min(workers, len(items)))
        threads = torch.get_num_threads()
        if workers == 1:
            try:
                for item in items:
                    if device.type == "cpu":
                        torch.set_num_threads(1)
                    result = task(item, model)
                    torch.set_num_threads(threads)  # the caller's setting while it handles the result
                    yield item, result
            finally:
                torch.set_num_threads(threads)
            return
        replicas = self._replicas.setdefault(id(model), [])
        while len(replicas) < workers:
            replicas.append(copy.deepcopy(model))
        free: queue.Queue = queue.Queue()
        for m in replicas[:workers]:
            free.put(m)

        def job(item):
            m = free.get()
            try:
                return item, task(item, m)
            finally:
                free.put(m)

        torch.set_num_threads(1)
        pool = ThreadPoolExecutor(workers)
        try:
            pending = {pool.submit(job, item) for item in items}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            torch.set_num_threads(threads)


# --- Ray ---------------------------------------------------------------------------------------------------

#: how to install the optional Ray extra (CPU torch kept by the constraints file)
RAY_INSTALL = "pip install -c constraints.txt -e '.[ray]'"


def _import_ray():
    try:
        import ray
    except ImportError:
        raise EngineError(f"engine 'ray' needs Ray, which is not installed: {RAY_INSTALL}") from None
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast (one line) when ``HOST:PORT`` accepts no TCP connection: ``ray.init`` would retry for minutes."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise EngineError(f"Ray address '{address}': expected 'auto', HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise EngineError(f"cannot reach the Ray cluster at {address} ({type(e).__name__}: {e}); start one with "
                          "`ray start --head` and pass the address it prints (or 'auto' on a cluster node)") from None


def _cpu_copy(obj: Any) -> Any:
    """A deep copy of ``obj`` with every tensor on the CPU (a task is shipped from the CPU; each worker moves
    it to its own device)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    out = torch.load(buf, map_location="cpu", weights_only=False)
    return _moved(out, torch.device("cpu"))


def _moved(obj: Any, device: torch.device) -> Any:
    """``(task, model)`` on ``device``: ``task.to(device)`` when the task has one, ``model.to(device)``."""
    task, model = obj
    if callable(getattr(task, "to", None)):
        task = task.to(device)
    if isinstance(model, nn.Module):
        model.to(device)
    return task, model


#: per worker process: shipped (task, model) by object id, already on this worker's device (newest last)
_WORKER_TASKS: collections.OrderedDict[str, tuple[Any, Any]] = collections.OrderedDict()
_WORKER_KEEP = 4


def _ray_task(box: list, item: Any, part: Any, device: str, threads: int) -> Any:
    """What a Ray worker runs for one item: the shipped ``(task, model)`` is fetched from the object store
    and put on ``device`` once per worker process, then ``task(item, model)`` — or, for a task that was
    split (see :class:`RayEngine`), ``task.bind(part)(item, model)`` with the item's own part."""
    (ref,) = box  # a reference inside a list: Ray does not resolve it, so the worker fetches it once
    key = ref.hex()
    if key not in _WORKER_TASKS:
        import ray

        _WORKER_TASKS[key] = _moved(ray.get(ref), torch.device(device))
        while len(_WORKER_TASKS) > _WORKER_KEEP:
            _WORKER_TASKS.popitem(last=False)
    _WORKER_TASKS.move_to_end(key)
    task, model = _WORKER_TASKS[key]
    torch.set_num_threads(threads)
    return (task if part is None else task.bind(part))(item, model)


@ENGINES.register(name="ray", order=20)
class RayEngine:
    """The tasks of an attribution on Ray: one Ray task per item (image), on a local instance or a cluster.

    The task and the model are put in the object store once per :meth:`map` (each worker process fetches and
    deserialises them once), results are yielded as they arrive, and a task whose worker dies is retried up
    to ``max_retries`` times; errors raised by the task itself are not retried (they propagate). A task that
    offers ``split() -> (shared, item → part)`` and ``shared.bind(part) -> callable`` (an attribution's
    per-image task does: the method, and each image) is shipped as ``shared`` once and each item's part
    once, so a worker receives only the images it runs.

    * ``address``: None — start a local instance (``num_cpus``, ``num_gpus``; shut down by :meth:`close`);
      ``'auto'`` — the cluster this node belongs to (``ray start``); ``HOST:PORT`` — a cluster's head. A
      process already connected to Ray (``ray.init`` by the caller) keeps that connection, whatever the
      address, and :meth:`close` leaves it running.
    * ``gpus_per_task``: GPUs each task reserves; a fraction shares a GPU (0.25: four tasks per GPU). Workers
      run on CUDA when it is > 0, else on the CPU. None: 1 when the attribution's device is CUDA, else 0.
    * ``cpus_per_task``: CPUs each task reserves; also its number of intra-op threads.
    * ``runtime_env``, ``init_options``: passed to ``ray.init`` (e.g. ``{'py_modules': [...]}`` on a cluster
      whose nodes do not have faig-lab installed).

    Use it as a context manager (or call :meth:`close`) to shut down an instance it started.
    """

    def __init__(self, address: str | None = None, gpus_per_task: float | None = None, cpus_per_task: float = 1,
                 max_retries: int = 3, num_cpus: int | None = None, num_gpus: int | None = None,
                 runtime_env: dict | None = None, init_options: dict | None = None) -> None:
        if gpus_per_task is not None and gpus_per_task < 0:
            raise ConfigError(f"gpus_per_task must be ≥ 0, got {gpus_per_task}")
        if cpus_per_task <= 0:
            raise ConfigError(f"cpus_per_task must be > 0, got {cpus_per_task}")
        if max_retries < 0:
            raise ConfigError(f"max_retries must be ≥ 0, got {max_retries}")
        self.address, self.gpus_per_task, self.cpus_per_task = address, gpus_per_task, cpus_per_task
        self.max_retries, self.num_cpus, self.num_gpus = max_retries, num_cpus, num_gpus
        self.runtime_env, self.init_options = runtime_env, dict(init_options or {})
        self.started = False  # whether this engine called ray.init (and so shuts Ray down in close())
        self._remote = None

    def __repr__(self) -> str:
        return (f"RayEngine(address={self.address!r}, gpus_per_task={self.gpus_per_task}, "
                f"cpus_per_task={self.cpus_per_task}, max_retries={self.max_retries})")

    def start(self):
        """Connect to Ray (see the class docstring) and return the ``ray`` module; idempotent."""
        ray = _import_ray()
        if not ray.is_initialized():
            options = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            options.update(self.init_options)
            if self.runtime_env is not None:
                options["runtime_env"] = self.runtime_env
            if self.address is None:
                options.update({k: v for k, v in (("num_cpus", self.num_cpus), ("num_gpus", self.num_gpus))
                                if v is not None})
            else:
                if self.num_cpus is not None or self.num_gpus is not None:
                    raise ConfigError("num_cpus/num_gpus size a local Ray instance: not with address= "
                                      f"'{self.address}' (the cluster's nodes declare their own)")
                if self.address != "auto" and not self.address.startswith("ray://"):
                    _check_reachable(self.address)
                options["address"] = self.address
            try:
                ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise EngineError(f"cannot connect to {where}: {first}") from None
            self.started = True
        if self._remote is None:
            self._remote = ray.remote(_ray_task)
        return ray

    def close(self) -> None:
        """Shut Ray down if this engine started it (an instance the caller started is left running)."""
        if self.started:
            ray = _import_ray()
            if ray.is_initialized():
                ray.shutdown()
            self.started = False
        self._remote = None

    def __enter__(self) -> "RayEngine":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def gpus_for(self, device: torch.device) -> float:
        """GPUs per task for an attribution on ``device`` (see ``gpus_per_task``)."""
        if self.gpus_per_task is not None:
            return float(self.gpus_per_task)
        return 1.0 if torch.device(device).type == "cuda" else 0.0

    def map(self, task: Callable[[Any, nn.Module | None], Any], items: Sequence, model: nn.Module,
            device: torch.device) -> Iterator[tuple[Any, Any]]:
        items = list(items)
        if not items:
            return
        ray = self.start()
        gpus = self.gpus_for(device)
        if gpus > 0:
            have = ray.cluster_resources().get("GPU", 0)
            if have < gpus:
                raise EngineError(f"gpus_per_task={gpus:g}, but the Ray cluster has {have:g} GPUs (start its nodes "
                                  "with GPUs, or use gpus_per_task=0 to run on CPUs)")
        split = getattr(task, "split", None)
        shared, part_of = split() if callable(split) else (task, None)
        shipped = (shared, model) if torch.device(device).type == "cpu" else _cpu_copy((shared, model))
        ref = ray.put(shipped)
        parts = {i: ray.put(part_of(item)) for i, item in enumerate(items)} if part_of is not None else {}
        remote = self._remote.options(num_cpus=self.cpus_per_task, num_gpus=gpus, max_retries=self.max_retries,
                                      retry_exceptions=False)
        worker_device, threads = ("cuda" if gpus > 0 else "cpu"), max(1, int(self.cpus_per_task))
        futures = {remote.remote([ref], item, parts.get(i), worker_device, threads): item
                   for i, item in enumerate(items)}
        pending = list(futures)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                if pending:  # whatever else is ready too, without waiting
                    more, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
                    done += more
                for f in done:
                    yield futures[f], self._get(ray, f, futures[f])
        finally:
            for f in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(f)
            del ref, futures, parts

    def _get(self, ray, ref, item: Any) -> Any:
        """The result of one task, with Ray's errors turned into one-line ones."""
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as e:
            if isinstance(e.cause, FaigLabError):
                raise e.cause from None
            raise
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                ray.exceptions.ObjectLostError, ray.exceptions.LocalRayletDiedError) as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise EngineError(f"Ray task for item {item!r} failed after {self.max_retries} retries: {first}") from None


def make_engine(engine: "Engine | str | None" = None, **options) -> Engine:
    """An engine from a name: None or ``'local'`` → :class:`LocalEngine` (option ``workers``), ``'ray'`` →
    :class:`RayEngine` (options ``address``, ``gpus_per_task``, ``cpus_per_task``, ...); an engine object is
    returned as it is (no options then)."""
    if engine is None or isinstance(engine, str):
        name = engine or "local"
        cls = ENGINES[name]
        try:
            return cls(**options)
        except TypeError as e:
            raise ConfigError(f"engine '{name}': {e}") from None
    if options:
        raise ConfigError(f"engine options {sorted(options)} apply to an engine given by name, not to {engine!r}")
    if not callable(getattr(engine, "map", None)):
        raise ConfigError(f"engine must be 'local', 'ray' or an object with map(task, items, model, device), "
                          f"got {type(engine).__name__}")
    return engine


@contextlib.contextmanager
def open_engine(engine: "Engine | str | None" = None, **options) -> Iterator[Engine]:
    """:func:`make_engine` as a context manager: an engine made here from a name is closed on exit (a
    Ray instance it started is shut down); an engine object passed in is left as it is."""
    made = make_engine(engine, **options)
    try:
        yield made
    finally:
        if made is not engine and callable(getattr(made, "close", None)):
            made.close()
