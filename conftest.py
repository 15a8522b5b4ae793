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


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes-long end-to-end tests (deselect with -m 'not slow')")


#: notebooks that run one after another on one worker: 02–04 and the app reuse 01's rankings
NOTEBOOK_CHAIN = ("01_", "02_", "03_", "04_", "app_")
#: every other notebook is a unit of its own, on any worker: 06 ranks its own sweep (needs nothing of 01), while
#: 05 and 07 reuse 01's rankings, so they are handed out last (by then 01 has long finished on two workers; were
#: it still running, they would rank the pairs themselves: the same numbers, only slower)
NOTEBOOKS_ALONE = ("06_",)
CHAIN_SCOPE = "notebooks/chain"


def _notebook(nodeid: str) -> str | None:
    path = nodeid.split("::")[0]
    return path.rsplit("/", 1)[-1] if path.endswith(".ipynb") else None


def _unit_priority(scope: str) -> int:
    """Order in which pytest-xdist hands out work units: the notebook chain first (the longest unit), then the
    independent notebook and the own-pair test (minutes each), the other test modules, then notebooks 05 and 07."""
    if scope == CHAIN_SCOPE:
        return 0
    name = _notebook(scope)
    if name is None:
        return 2 if "test_own_pair" in scope else 3
    return 1 if name.startswith(NOTEBOOKS_ALONE) else 4


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``pytest -n 2`` (``make test``): pytest-xdist's per-module scheduling, with notebooks 01–04 and the app in
    one unit (run in order on one worker: nbval runs a notebook's cells in sequence, and they reuse 01's rankings),
    and units handed out longest and most depended-on first (:func:`_unit_priority`)."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksInOrder(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            name = _notebook(nodeid)
            if name is not None:
                return CHAIN_SCOPE if name.startswith(NOTEBOOK_CHAIN) else nodeid.split("::")[0]
            return super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            self.workqueue.move_to_end(min(self.workqueue, key=_unit_priority), last=False)
            super()._assign_work_unit(node)

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
