"""Each notebook's jupytext .py and .ipynb halves hold the same cells; parameters cell first."""
from pathlib import Path

import jupytext
import pytest

NB = Path(__file__).resolve().parent.parent / "notebooks"
PAIRS = sorted(NB.glob("[0-9]*.py"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_has_both_halves():
    py = {p.stem for p in NB.glob("[0-9]*.py")}
    ipynb = {p.stem for p in NB.glob("[0-9]*.ipynb")}
    assert py == ipynb, f"unpaired: {py ^ ipynb}"


@pytest.mark.parametrize("py", PAIRS, ids=[p.stem for p in PAIRS])
def test_halves_have_identical_cells(py):
    a, b = jupytext.read(py), jupytext.read(py.with_suffix(".ipynb"))
    assert _cells(a) == _cells(b), f"{py.name} and its .ipynb differ: run `make sync`"


@pytest.mark.parametrize("py", PAIRS, ids=[p.stem for p in PAIRS])
def test_parameters_cell_comes_first(py):
    code = [c for c in jupytext.read(py).cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), f"{py.name}: first code cell must be tagged 'parameters'"
