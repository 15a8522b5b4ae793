"""``python -m faig_helpers rank``: rankings for headless (e.g. GPU) runs."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .attribution import DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, attribute
from .checkpoint import CheckpointError, load_pair
from .degradations import load_dataset
from .images import ImageError
from .quadrature import METHODS as QUADRATURES
from .rankings import save_rankings

__all__ = ["rank_main"]


def rank_main(argv: Sequence[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(prog="python -m faig_helpers rank",
                                 description="Rank every filter for blur and noise; writes DIR/{blur,noise}_index.txt.")
    ap.add_argument("--method", choices=METHODS, default="faig")
    ap.add_argument("--baseline", required=True, help="baseline checkpoint θ̄ (BasicSR format)")
    ap.add_argument("--target", required=True, help="target checkpoint θ (BasicSR format)")
    ap.add_argument("--dataset-root", required=True,
                    help="folder with GTmod12/, Blur2_LRbicx2/, LRbicx2_noise0.1/ (and Linear_LRbicx2/ for IG)")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="quadrature nodes (the original: 100)")
    ap.add_argument("--quadrature", choices=QUADRATURES, default=DEFAULT_QUADRATURE,
                    help="the original: riemann_left")
    ap.add_argument("--device", default=None, help="e.g. cuda, cuda:1 (default: cpu)")
    ap.add_argument("--seed", type=int, default=0, help="for --method random")
    ap.add_argument("--cache", default=None, help="folder for per-image partial results (resume after interruption)")
    ap.add_argument("--out", required=True, help="output folder")
    a = ap.parse_args(argv)
    try:
        baseline, target = load_pair(a.baseline, a.target)
        kinds = ("gt", "blur", "noise", "clean") if a.method == "ig" else ("gt", "blur", "noise")
        data = load_dataset(a.dataset_root, kinds) if a.method in ("faig", "ig") else None
    except (CheckpointError, ImageError) as e:
        ap.exit(2, f"error: {e}\n")
    t0 = time.perf_counter()
    scores = attribute(a.method, baseline, target, data, n_steps=a.steps, quadrature=a.quadrature,
                       device=a.device, seed=a.seed, cache_dir=a.cache)
    out = save_rankings(a.out, scores)
    print(f"{a.method}: {len(scores.blur)} filters ranked in {time.perf_counter() - t0:.1f} s -> "
          f"{out / 'blur_index.txt'}, {out / 'noise_index.txt'}", file=sys.stderr)
    return out
