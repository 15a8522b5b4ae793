import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch

from faig_helpers.io_utils import OUTPUT_ENV

torch.set_num_threads(min(2, os.cpu_count() or 1))
ROOT = Path(__file__).resolve().parent.parent

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


def pytest_sessionstart(session):
    session.config._faig_git_status = _git_status()


def pytest_sessionfinish(session, exitstatus):
    """The tree is as clean after the tests as before: tests and nbval write no tracked or unignored file."""
    before, after = getattr(session.config, "_faig_git_status", None), _git_status()
    if before is not None and after is not None and after != before:
        new = sorted(set(after.splitlines()) - set(before.splitlines()))
        print(f"\nFAILED: the tests changed the working tree (git status --porcelain): {new}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def embedded_data():
    from faig_helpers.degradations import load_dataset
    from faig_helpers.embedded import DATASET_ROOT

    return load_dataset(DATASET_ROOT)
