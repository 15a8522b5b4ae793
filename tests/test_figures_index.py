"""figures/README.md lists exactly the figures the notebooks render, with the notebook that renders each."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _listed():
    text = (ROOT / "figures/README.md").read_text()
    rows = re.findall(r"^\| `([^`]+\.png)` \|.*\| `notebooks/([^`]+)` \|$", text, re.M)
    return dict(rows)


def rendered_names(name: str, pairs: list[str], degradations: list[str]) -> set[str]:
    """The files one ``lab.savefig(fig, f"…")`` call writes: {n} is each pair, {d} each degradation of the
    pair single-pair views show."""
    return {name.replace("{n}", n).replace("{d}", d) for n in pairs for d in degradations}


def _rendered():
    from faig_helpers.degradations import read_manifest
    from faig_helpers.embedded import default_pairs

    pairs = default_pairs()
    first = read_manifest(next(iter(pairs.values()))["dataset_root"])["degradations"]
    out = {}
    for py in sorted((ROOT / "notebooks").glob("[0-9]*.py")):
        for name in re.findall(r'savefig\(fig, f?"([^"]+)"', py.read_text()):
            for f in rendered_names(name, list(pairs), first):
                out[f] = py.stem
    return out


def test_every_rendered_figure_is_listed_with_its_notebook():
    assert _listed() == _rendered()


def test_committed_figures_match_the_index():
    assert {p.name for p in (ROOT / "figures").glob("*.png")} == set(_listed())
