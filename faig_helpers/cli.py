"""``python -m faig_helpers rank``: rankings for headless (e.g. GPU) runs."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .attribution import DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, AttributionError, attribute
from .checkpoint import CheckpointError, load_pair
from .degradations import load_dataset
from .images import ImageError
from .quadrature import RULES, check
from .rankings import save_rankings

__all__ = ["rank_main"]


def rank_main(argv: Sequence[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(prog="python -m faig_helpers rank",
                                 description="Rank every filter for blur and noise; writes DIR/{blur,noise}_index.txt.")
    ap.add_argument("--method", choices=list(METHODS), default="faig")
    ap.add_argument("--baseline", required=True, help="baseline checkpoint θ̄ (BasicSR format)")
    ap.add_argument("--target", required=True, help="target checkpoint θ (BasicSR format)")
    ap.add_argument("--dataset-root", help="folder with GTmod12/, Blur2_LRbicx2/, LRbicx2_noise0.1/ "
                                           "(and Linear_LRbicx2/ for IG); needed by faig and ig")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="quadrature nodes; for adaptive the most it may use (the original: 100)")
    ap.add_argument("--quadrature", choices=RULES, default=DEFAULT_QUADRATURE, help="the original: riemann_left")
    ap.add_argument("--device", default=None, help="e.g. cuda, cuda:1 (default: cpu)")
    ap.add_argument("--seed", type=int, default=0, help="for --method random")
    ap.add_argument("--cache", default=None, help="folder for per-image partial results (resume after interruption)")
    ap.add_argument("--out", required=True, help="output folder")
    a = ap.parse_args(argv)
    method = METHODS[a.method]
    try:
        check(a.quadrature, a.steps)
    except ValueError as e:
        ap.error(f"--steps/--quadrature: {e}")
    try:
        baseline, target = load_pair(a.baseline, a.target)
        data = None
        if method.uses_images:
            if a.dataset_root is None:
                ap.error(f"--method {a.method} needs --dataset-root")
            kinds = ("gt", "blur", "noise", "clean") if a.method == "ig" else ("gt", "blur", "noise")
            data = load_dataset(a.dataset_root, kinds)
        t0 = time.perf_counter()
        scores = attribute(a.method, baseline, target, data, device=a.device, seed=a.seed, n_steps=a.steps,
                           quadrature=a.quadrature, cache_dir=a.cache)
    except (CheckpointError, ImageError, AttributionError) as e:
        ap.exit(2, f"error: {e}\n")
    out = save_rankings(a.out, scores)
    print(f"{a.method}: {len(scores)} filters ranked in {time.perf_counter() - t0:.1f} s -> "
          f"{out / 'blur_index.txt'}, {out / 'noise_index.txt'}", file=sys.stderr)
    return out
