"""figures/README.md lists exactly the figures the notebooks render, with the notebook that renders each."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _listed():
    rows = re.findall(r"^\| `([^`]+\.png)` \|.*\| `notebooks/([^`]+)` \|$", (ROOT / "figures/README.md").read_text(), re.M)
    return dict(rows)


def _rendered():
    out = {}
    for py in sorted((ROOT / "notebooks").glob("[0-9]*.py")):
        for name in re.findall(r'savefig\(fig, f?"([^"]+)"', py.read_text()):
            for deg in ("blur", "noise"):
                out[name.replace("{deg}", deg).replace("{d.name}", deg)] = py.stem
    return out


def test_every_rendered_figure_is_listed_with_its_notebook():
    assert _listed() == _rendered()


def test_committed_figures_match_the_index():
    assert {p.name for p in (ROOT / "figures").glob("*.png")} == set(_listed())
