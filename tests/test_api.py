"""Every module's ``__all__`` is true: it names what exists and every public function or class defined there."""
import importlib
import inspect
import pkgutil

import pytest

import faig_helpers

MODULES = sorted(m.name.removeprefix("faig_helpers.")
                 for m in pkgutil.walk_packages(faig_helpers.__path__, "faig_helpers.")
                 if not m.name.rsplit(".", 1)[-1].startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_true(name):
    mod = importlib.import_module(f"faig_helpers.{name}")
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"faig_helpers.{name} has no __all__"
    missing = [n for n in exported if not hasattr(mod, n)]
    assert not missing, f"faig_helpers.{name}.__all__ names {missing}, which do not exist"
    defined = [n for n, obj in vars(mod).items() if not n.startswith("_")
               and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == mod.__name__]
    unlisted = sorted(set(defined) - set(exported))
    assert not unlisted, f"faig_helpers.{name} defines public {unlisted} that __all__ does not list"


def test_importing_has_no_side_effects():
    import os
    import subprocess
    import sys

    code = ("import os, matplotlib as mpl; before = dict(mpl.rcParams); m = os.umask(0o022); os.umask(m);"
            "import faig_helpers;"
            "after = os.umask(0o022); assert after == m, 'umask changed';"
            "assert dict(mpl.rcParams) == before, 'matplotlib style changed on import'")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "MPLBACKEND": "Agg"})


def test_public_api_is_the_whole_surface_notebooks_use():
    """Notebooks use ``fl.NAME`` (the top level, at most 60 names, each used somewhere) or ``fl.NAMESPACE.NAME``."""
    import re
    from pathlib import Path

    public = faig_helpers.__all__
    assert set(public) <= set(dir(faig_helpers)) and len(set(public)) == len(public) and len(public) <= 60
    root = Path(__file__).resolve().parent.parent
    used_anywhere: set[str] = set()
    for f in [*root.glob("notebooks/*.py"), *root.glob("scripts/*.py"), *root.glob("benchmarks/*.py"),
              *root.glob("tests/*.py")]:
        if f.name != "test_api.py":
            text = f.read_text()
            used_anywhere |= set(re.findall(r"\bfl\.(\w+)", text)) | set(re.findall(r"\b(\w+)\b", text))
    assert not set(public) - used_anywhere, f"exported but used nowhere: {sorted(set(public) - used_anywhere)}"
    for nb in sorted((root / "notebooks").glob("*.py")):
        text = nb.read_text()
        assert not re.search(r"^\s*(from faig_helpers\.\w+ import|import faig_helpers\.)", text, re.M), \
            f"{nb.name} imports a faig_helpers submodule: use the public API (import faig_helpers as fl)"
        for name, attr in re.findall(r"\bfl\.(\w+)(?:\.(\w+))?", text):
            if name in faig_helpers.NAMESPACES:
                assert attr and hasattr(getattr(faig_helpers, name), attr), f"{nb.name}: no fl.{name}.{attr}"
            else:
                assert name in public, f"{nb.name} uses fl.{name}, which is neither a public name nor a namespace"
