"""Every module's ``__all__`` is true: it names what exists and every public function or class defined there."""
import importlib
import inspect
import pkgutil

import pytest

import faig_helpers

MODULES = sorted(m.name for m in pkgutil.iter_modules(faig_helpers.__path__) if not m.name.startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_true(name):
    mod = importlib.import_module(f"faig_helpers.{name}")
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"faig_helpers.{name} has no __all__"
    missing = [n for n in exported if not hasattr(mod, n)]
    assert not missing, f"faig_helpers.{name}.__all__ names {missing}, which do not exist"
    defined = [n for n, obj in vars(mod).items() if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and obj.__module__ == mod.__name__]
    unlisted = sorted(set(defined) - set(exported))
    assert not unlisted, f"faig_helpers.{name} defines public {unlisted} that __all__ does not list"


def test_importing_has_no_side_effects():
    import os
    import subprocess
    import sys

    code = ("import os, matplotlib as mpl; before = dict(mpl.rcParams); m = os.umask(0o022); os.umask(m);"
            "import faig_helpers.plots, faig_helpers.io_utils, faig_helpers.attribution;"
            "after = os.umask(0o022); assert after == m, 'umask changed';"
            "assert dict(mpl.rcParams) == before, 'matplotlib style changed on import'")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "MPLBACKEND": "Agg"})
