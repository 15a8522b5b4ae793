"""Where the per-image work of an attribution runs.

Per-image attributions are additive, so a ranking splits into one task per (model pair, image) and the
reduce is a sum in image order: any engine gives the same scores, and any engine resumes from the
per-image cache another engine wrote. An engine's ``map(task, items, model, device)`` runs
``task(item, replica)`` for every item and yields ``(item, result)`` as results arrive (in any order).

* :class:`LocalEngine` (the default): a thread pool on this machine, one image per core.
"""
from __future__ import annotations

import copy
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Protocol

import torch
from torch import nn

__all__ = ["Engine", "LocalEngine"]


class Engine(Protocol):
    """Runs the tasks of one attribution and yields ``(item, result)`` as they finish."""

    def map(self, task: Callable[[Any, nn.Module | None], Any], items: Sequence, model: nn.Module,
            device: torch.device) -> Iterator[tuple[Any, Any]]: ...


class LocalEngine:
    """Thread pool on this machine. On CPU, ``workers`` images run at once (default: one per intra-op
    thread), each task on exactly one intra-op thread whatever the worker count: the small convolutions of
    an SR net scale far better across images than inside one convolution, and a task's floating-point
    result then never depends on the worker count or on how busy the machine is (the same ranking files
    every run). On a GPU one image runs at a time. Each worker has its own replica of ``model``
    (``torch.func.functional_call`` swaps a module's parameters while it runs)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self._replicas: dict[int, list[nn.Module]] = {}

    def map(self, task: Callable[[Any, nn.Module | None], Any], items: Sequence, model: nn.Module,
            device: torch.device) -> Iterator[tuple[Any, Any]]:
        workers = self.workers or (torch.get_num_threads() if device.type == "cpu" else 1)
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
