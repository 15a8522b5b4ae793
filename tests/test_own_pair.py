"""Bring your own pair: every notebook runs to the end on full-size BasicSR pairs at ×4 and ×2.

Built here from fixed seeds: a full-size MSRResNet ×4 pair and a full-size SRCNN-style ×2 pair (the
target is the baseline after a few optimiser steps on degraded patches: structure, not quality), a
dataset root made from a few small held-out HR crops with ``python -m faig_helpers degrade --scale``,
then each notebook is executed with papermill on them, as the README tells a user to.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faig_helpers.embedded import EVAL_HR_DIR, TRAIN_DIR
from faig_helpers.filters import FilterIndex
from faig_helpers.images import list_images, read_image, write_image
from faig_helpers.io_utils import OUTPUT_ENV
from faig_helpers.rankings import load_scores, ranking_dir
from faig_helpers.checkpoint import load_state_dict
from faig_helpers.train import PairRecipe, TrainConfig, make_pair

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
FULL_SIZE = {  # name → (architecture, scale, filters)
    "msrresnet_x4": (dict(type="MSRResNet", num_feat=64, num_block=16, upscale=4), 4, 168_320),
    "srcnn_style_x2": (dict(type="SRCNNStyle", channels=(64, 128, 128, 128, 128, 128), upscale=2), 2, 156_224),
}
#: small settings so that full-size networks stay within the CI budget (the defaults are for real runs)
FAST = {"01": dict(n_steps=4, quadrature="riemann_middle", check_crop=8, reference_steps=4, convergence_images=1, convergence_nodes=[2, 4],
                   bootstrap_samples=20),
        "02": dict(n_steps=4, quadrature="riemann_middle", table_proportions=[1, 5], claim_proportions=[1], curve_proportions=[0, 1, 100],
                   example_crop=8),
        "03": dict(n_steps=4, quadrature="riemann_middle", n_permutations=200),
        "04": dict(n_steps=4, quadrature="riemann_middle", lambdas=[0.0, 1.0, 1.5], example_crop=8),
        "05": dict(n_steps=4, quadrature="riemann_middle")}


def _figures(nb: Path) -> set[str]:
    names = re.findall(r'savefig\(fig, f?"([^"]+)"', nb.with_suffix(".py").read_text())
    return {n.replace("{d.name}", d).replace("{deg}", d) for n in names for d in ("blur", "noise")}


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    hr = root / "hr"
    for p in list_images(EVAL_HR_DIR)[:3]:
        write_image(hr / p.name, read_image(p)[:48, :48])
    pairs = {}
    for name, (spec, scale, _) in FULL_SIZE.items():
        subprocess.run([sys.executable, "-m", "faig_helpers", "degrade", str(hr), str(root / f"x{scale}"),
                        "--scale", str(scale)], check=True, capture_output=True)
        quick = dict(batch=2, patch=12 * scale, ema_decay=0.0, save_every=10**6, threads=None)
        recipe = PairRecipe(spec, TrainConfig(iters=1, lr=1e-4, seed=0, **quick),
                            TrainConfig(iters=3, lr=1e-3, mix={"blur": 0.5, "noise": 0.5}, seed=1, **quick))
        pairs[name] = make_pair(recipe, TRAIN_DIR, root / f"{name}_baseline.pth", root / f"{name}_target.pth",
                                progress=False)
    return root, pairs


@pytest.mark.parametrize("name", list(FULL_SIZE))
def test_every_notebook_runs_on_a_full_size_pair(own, name, monkeypatch):
    import papermill

    root, pairs = own
    spec, scale, n_filters = FULL_SIZE[name]
    b, t = pairs[name]
    assert len(FilterIndex.from_state_dict(load_state_dict(t))) == n_filters
    for var in OUTPUT_ENV.values():  # the kernel writes where the parameters say
        monkeypatch.delenv(var, raising=False)
    results, figures = root / f"results_{name}", root / f"figures_{name}"
    for nb in NOTEBOOKS:
        params = dict(pairs={name: [str(b), str(t)]}, dataset_root=str(root / f"x{scale}"), dataset_name="own",
                      results_dir=str(results), figures_dir=str(figures), **FAST.get(nb.name[:2], {}))
        papermill.execute_notebook(str(nb), str(root / f"{name}_{nb.name}"), parameters=params,
                                   cwd=str(nb.parent), progress_bar=False, kernel_name="python3")
        missing = {f for f in _figures(nb) if not (figures / f).is_file()}
        assert not missing, f"{nb.name} on {name} did not write {missing}"
    for method in ("faig", "ig", "abs_filter_change", "random"):
        s = load_scores(ranking_dir(results, name, "own", method), method, n_filters)
        assert len(s) == n_filters and np.isfinite(s.score("blur")).all()
