"""Loaded by pytest for any test path in this repository (tests/ and the notebooks run by nbval alike):
outputs go to a temporary folder, and the working tree must be as clean afterwards as before."""
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from faig_helpers.layout import OUTPUT_ENV

ROOT = Path(__file__).resolve().parent
# nbval's kernels inherit these: the notebooks write their results and figures to a temporary folder
_OUT = Path(tempfile.mkdtemp(prefix="faig-lab-tests-"))
for _kind, _var in OUTPUT_ENV.items():
    os.environ.setdefault(_var, str(_OUT / _kind))


def _git_status() -> str | None:
    try:
        return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


_DOCTEST_NAMES: dict = {}


@pytest.fixture(autouse=True)
def _doctest_names(request, doctest_namespace):
    """The names the package's ``>>>`` examples use: ``fl``, ``torch``, ``np`` and the embedded SRResNet pair —
    ``baseline``, ``target``, ``data`` (one evaluation image, 12-px LR crop) and one of its inputs ``x``."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    if not _DOCTEST_NAMES:
        import numpy as np
        import torch

        import faig_helpers as fl
        from faig_helpers.embedded import DATASET_ROOT, pair_paths

        baseline, target = fl.load_pair(*pair_paths("srresnet"))
        data = fl.load_dataset(DATASET_ROOT, clean=False).subset(1, 12)
        _DOCTEST_NAMES.update(fl=fl, torch=torch, np=np, baseline=baseline, target=target, data=data,
                              x=data.inputs["blur"][0])
    doctest_namespace.update(_DOCTEST_NAMES)


def pytest_ignore_collect(collection_path, config):
    """A notebook's .py half is not a module: nbval runs the .ipynb half, and ``--doctest-modules`` must not import
    (that is, execute) the notebook a second time."""
    if collection_path.suffix == ".py" and collection_path.parent == ROOT / "notebooks":
        return True
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes-long end-to-end tests (deselect with -m 'not slow')")


#: notebooks that run one after another on one worker: 02–04 and the app reuse 01's rankings
NOTEBOOK_CHAIN = ("01_", "02_", "03_", "04_", "app_")
#: every other notebook is a unit of its own, on any worker; these reuse 01's rankings, so they start once 01 has run
AFTER_01 = ("05_", "07_")
CHAIN_SCOPE = "notebooks/chain"


def _notebook(nodeid: str) -> str | None:
    path = nodeid.split("::")[0]
    return path.rsplit("/", 1)[-1] if path.endswith(".ipynb") else None


def _unit_priority(scope: str) -> int:
    """Order in which pytest-xdist hands out work units, longest first: the notebook chain, the other notebooks
    (06 ranks its own sweep), the own-pair test, then the other test modules (short ones fill the end)."""
    if scope == CHAIN_SCOPE:
        return 0
    if _notebook(scope) is not None:
        return 1
    return 2 if "test_own_pair" in scope else 3


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``pytest -n 2`` (``make test``): pytest-xdist's per-module scheduling, with notebooks 01–04 and the app in
    one unit (run in order on one worker: nbval runs a notebook's cells in sequence, and they reuse 01's rankings),
    units handed out longest first (:func:`_unit_priority`), and notebooks 05 and 07 only once notebook 01 has run
    (before that, they would rank the pairs again)."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksInOrder(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            name = _notebook(nodeid)
            if name is not None:
                return CHAIN_SCOPE if name.startswith(NOTEBOOK_CHAIN) else nodeid.split("::")[0]
            return super()._split_scope(nodeid)

        def _first_has_run(self) -> bool:
            if CHAIN_SCOPE in self.workqueue:
                return False
            units = [u[CHAIN_SCOPE] for u in self.assigned_work.values() if CHAIN_SCOPE in u]
            return all(done for u in units for nodeid, done in u.items() if _notebook(nodeid).startswith("01_"))

        def _ready(self, scope: str) -> bool:
            return not (_notebook(scope) or "").startswith(AFTER_01) or self._first_has_run()

        def _assign_work_unit(self, node) -> None:
            ready = [scope for scope in self.workqueue if self._ready(scope)]
            if ready:  # else the node waits: it is offered work again whenever any test completes
                self.workqueue.move_to_end(min(ready, key=_unit_priority), last=False)
                super()._assign_work_unit(node)

        def mark_test_complete(self, node, item_index: int, duration: float = 0) -> None:
            super().mark_test_complete(node, item_index, duration)
            for other in self.nodes:  # e.g. notebook 01's last cell makes 05 and 07 ready for an idle worker
                if other is not node:
                    self._reschedule(other)

    return NotebooksInOrder(config, log)


def _controller(config) -> bool:
    return not hasattr(config, "workerinput")  # pytest-xdist workers have it; a plain run is its own controller


def pytest_sessionstart(session):
    if _controller(session.config):
        session.config._faig_git_status = _git_status()


def pytest_sessionfinish(session, exitstatus):
    """The tree is as clean after the tests as before: tests and nbval write no tracked or unignored file."""
    if not _controller(session.config):
        return
    before, after = getattr(session.config, "_faig_git_status", None), _git_status()
    if before is not None and after is not None and after != before:
        new = sorted(set(after.splitlines()) - set(before.splitlines()))
        print(f"\nFAILED: the tests changed the working tree (git status --porcelain): {new}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
