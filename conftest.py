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


def pytest_sessionstart(session):
    session.config._faig_git_status = _git_status()


def pytest_sessionfinish(session, exitstatus):
    """The tree is as clean after the tests as before: tests and nbval write no tracked or unignored file."""
    before, after = getattr(session.config, "_faig_git_status", None), _git_status()
    if before is not None and after is not None and after != before:
        new = sorted(set(after.splitlines()) - set(before.splitlines()))
        print(f"\nFAILED: the tests changed the working tree (git status --porcelain): {new}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
