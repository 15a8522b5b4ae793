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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``pytest -n 2`` (``make test``): pytest-xdist's per-module scheduling, with all notebooks in one scope, run
    in order on one worker (nbval runs a notebook's cells in sequence; notebooks 02–07 reuse 01's rankings)."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksInOrder(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "notebooks" if ".ipynb::" in nodeid else super()._split_scope(nodeid)

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
