"""Rebuild each notebooks/NN_*.ipynb from its jupytext .py half, execute it, and keep only the
outputs nbval compares (cells marked ``# NBVAL_CHECK_OUTPUT``). Run via ``make notebooks``."""
from __future__ import annotations

import sys
from pathlib import Path

import jupytext
from nbclient import NotebookClient

NB = Path(__file__).resolve().parent.parent / "notebooks"


def refresh(py: Path) -> None:
    nb = jupytext.read(py)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                          "language": "python"})
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NB)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "NBVAL_CHECK_OUTPUT" not in cell.source:
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)  # the executed panel's widget state: stale for a reader, large in diffs
    out = py.with_suffix(".ipynb")
    if out.exists():  # keep the cell ids of unchanged cells: diffs show what changed, not new random ids
        old = {(c.cell_type, c.source): c.get("id") for c in jupytext.read(out).cells}
        for cell in nb.cells:
            if old.get((cell.cell_type, cell.source)):
                cell["id"] = old[(cell.cell_type, cell.source)]
    jupytext.write(nb, out, fmt="ipynb")
    print(f"refreshed {out.name}")


if __name__ == "__main__":
    targets = [Path(a) for a in sys.argv[1:]] or sorted(NB.glob("[0-9]*.py"))
    for py in targets:
        refresh(py)
