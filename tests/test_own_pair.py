"""Bring your own pair: the notebooks run to the end on pairs that are not ours, as a new user runs them.

Built here from fixed seeds (the target is the baseline after a few optimiser steps on degraded patches:
structure, not quality): a full-size MSRResNet ×4 pair (the original authors' setting), a small RRDBNet
×4 (ESRGAN's network) and a small SRVGGNetCompact ×4 (Real-ESRGAN's compact net), a ×4 dataset root made
from a few small held-out HR crops with ``python -m faig_helpers degrade --scale 4``; and a published network
nobody here trained, the shipped Real-CUGAN se ×2 pair (transposed convs, a 32-pixel minimum input), on a ×2
root of 32-pixel LR crops; then each notebook
is executed with papermill, the README's way, with settings small enough for CI (the defaults are for
real runs). Minutes long: ``pytest -m 'not slow'`` skips it locally; CI runs everything.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faig_helpers.checkpoint import load_model
from faig_helpers.embedded import EVAL_HR_DIR, TRAIN_DIR
from faig_helpers.filters import FilterIndex
from faig_helpers.images import list_images, read_image, write_image
from faig_helpers.layout import OUTPUT_ENV, Layout
from faig_helpers.methods import METHODS
from faig_helpers.published import realcugan_pair
from faig_helpers.rankings import load_scores
from faig_helpers.train import PairRecipe, TrainConfig, make_pair

from test_figures_index import rendered_names

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {nb.name[:2]: nb for nb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))}
PAIRS = {  # name → (architecture, filters, notebooks run on it)
    # full size, as the original authors ran it: the rankings (01) and the panel (04); every notebook runs on RRDBNet
    "msrresnet_x4": (dict(type="MSRResNet", num_feat=64, num_block=16, upscale=4), 168_320, ["01", "04"]),
    "rrdbnet_x4": (dict(type="RRDBNet", num_feat=16, num_block=2, num_grow_ch=8, scale=4), 11_104, list(NOTEBOOKS)),
    "compact_x4": (dict(type="SRVGGNetCompact", num_feat=16, num_conv=4, upscale=4), 1_840, ["01", "04"]),
    # a published network nobody here trained: Real-CUGAN se ×2 (shipped), on a ×2 root of 32-px LR crops
    "realcugan_x2": (None, 178_752, ["01", "02", "03", "04", "05", "07"]),
}
#: small settings so that the runs stay within the CI budget
FAST = dict(n_steps=2, quadrature="riemann_middle")
NOTEBOOK_FAST = {
    "01": dict(check_crop=6, reference_steps=2, convergence_images=1, convergence_nodes=[2], convergence_reference=4,
               bootstrap_samples=10),
    "02": dict(table_proportions=[1], claim_proportions=[1], curve_proportions=[0, 1, 100], example_crop=6),
    "03": dict(n_permutations=100),
    "04": dict(lambdas=[0.0, 1.0], example_crop=6),
    "05": dict(input_steps=2, crops_per_photo=1, crop_size=6),
    "07": dict(elimination_proportions=[1], baseline_steps=2, example_crop=6, retrain_iters=2, retrain_batch=2),
    "08": dict(table_proportions=[1], lambdas=[0.0, 1.0], images=2, crop=None),
    "09": dict(images=2, crop=None, lam_crop=None, lam_fold=4, box_size=8),
    "10": dict(images=3, crop=None, train_images=1, proportions=[1], mask_steps=2),
}


def _figures(nb: Path, name: str, degradations: list[str]) -> set[str]:
    import re

    names = re.findall(r'savefig\(fig, f?"([^"]+)"', nb.with_suffix(".py").read_text())
    return {f for n in names for f in rendered_names(n, [name], degradations)}


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    hr = root / "hr"
    for p in list_images(EVAL_HR_DIR)[:3]:
        write_image(hr / p.name, read_image(p)[:40, :40])
    subprocess.run([sys.executable, "-m", "faig_helpers", "degrade", str(hr), str(root / "x4"), "--scale", "4"],
                   check=True, capture_output=True)
    hr2 = root / "hr2"
    for p in list_images(EVAL_HR_DIR)[:3]:
        write_image(hr2 / p.name, read_image(p)[:64, :64])
    subprocess.run([sys.executable, "-m", "faig_helpers", "degrade", str(hr2), str(root / "x2"), "--scale", "2"],
                   check=True, capture_output=True)
    pairs = {"realcugan_x2": tuple(realcugan_pair()[k] for k in ("baseline", "target"))}
    for name, (spec, _, _) in PAIRS.items():
        if spec is None:
            continue
        quick = dict(batch=2, patch=48, ema_decay=0.0, save_every=10**6, threads=None)
        recipe = PairRecipe(spec, TrainConfig(iters=1, lr=1e-4, seed=0, **quick),
                            TrainConfig(iters=3, lr=1e-3, mix={"blur": 0.5, "noise": 0.5}, seed=1, **quick))
        pairs[name] = make_pair(recipe, TRAIN_DIR, root / f"{name}_baseline.pth", root / f"{name}_target.pth",
                                progress=False)
    return root, pairs


@pytest.mark.parametrize("name", list(PAIRS))
def test_the_notebooks_run_on_a_pair_that_is_not_ours(own, name, monkeypatch):
    import papermill

    root, pairs = own
    _, n_filters, notebooks = PAIRS[name]
    b, t = pairs[name]
    assert len(FilterIndex.from_module(load_model(t))) == n_filters
    for var in OUTPUT_ENV.values():  # the kernel writes where the parameters say
        monkeypatch.delenv(var, raising=False)
    results, figures = root / f"results_{name}", root / f"figures_{name}"
    for key in notebooks:
        nb = NOTEBOOKS[key]
        x = "x2" if name == "realcugan_x2" else "x4"
        params = dict(pairs={name: [str(b), str(t)]}, dataset_root=str(root / x), dataset_name="own",
                      results_dir=str(results), figures_dir=str(figures), **FAST, **NOTEBOOK_FAST.get(key, {}))
        papermill.execute_notebook(str(nb), str(root / f"{name}_{nb.name}"), parameters=params,
                                   cwd=str(nb.parent), progress_bar=False, kernel_name="python3",
                                   execution_timeout=600)  # a hung cell fails the test, never blocks CI
        missing = {f for f in _figures(nb, name, ["blur", "noise"]) if not (figures / f).is_file()}
        assert not missing, f"{nb.name} on {name} did not write {missing}"
    ran = {m for m in METHODS if Layout(results).rankings(name, "own", m).is_dir()}
    assert "faig" in ran
    for method in ran:
        s = load_scores(Layout(results).rankings(name, "own", method), method, n_filters)
        assert len(s) == n_filters and all(np.isfinite(s.score(d)).all() for d in ("blur", "noise"))
