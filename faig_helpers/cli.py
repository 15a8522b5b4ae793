"""``python -m faig_helpers rank``: rankings for headless (e.g. GPU) runs."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .checkpoint import load_pair
from .degradations import load_dataset, read_manifest
from .errors import FaigLabError
from .engines import LocalEngine
from .methods import DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, PRECISIONS, method_class
from .quadrature import RULES, check
from .rankings import save_rankings

__all__ = ["rank_main"]


def rank_main(argv: Sequence[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(prog="python -m faig_helpers rank",
                                 description="Rank every filter for each degradation; writes DIR/{D}_index.txt.")
    ap.add_argument("--method", choices=list(METHODS), default="faig")
    ap.add_argument("--baseline", required=True, help="baseline θ̄: checkpoint (.pth, .safetensors) or BasicSR "
                                                      "experiment folder")
    ap.add_argument("--target", required=True, help="target θ, as --baseline")
    ap.add_argument("--dataset-root", help="folder with GTmod12/, Linear_LRbicx2/ and one folder per degradation "
                                           "(e.g. Blur2_LRbicx2/, LRbicx2_noise0.1/); needed by methods that use "
                                           "images")
    ap.add_argument("--degradations", nargs="+", default=None,
                    help="the set ranked (default: the dataset root's own set from its manifest; the original "
                         "layout: blur noise)")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                    help="quadrature nodes; for adaptive the most it may use (the original: 100)")
    ap.add_argument("--quadrature", choices=RULES, default=DEFAULT_QUADRATURE, help="the original: riemann_left")
    ap.add_argument("--device", default=None, help="e.g. cuda, cuda:1 (default: cpu)")
    ap.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_PRECISION,
                    help="network passes in fp32, bf16 (autocast; sums stay fp32/fp64), or auto: bf16 where the "
                         "hardware does it natively (AVX512-BF16/AMX CPU, CUDA with bf16)")
    ap.add_argument("--workers", type=int, default=None,
                    help="images at once on CPU, one core each (default: one per thread); the result is the same")
    ap.add_argument("--seed", type=int, default=0, help="for --method random")
    ap.add_argument("--cache", default=None, help="folder for per-image partial results (resume after interruption)")
    ap.add_argument("--out", required=True, help="output folder")
    a = ap.parse_args(argv)
    method = METHODS[a.method]
    try:
        check(a.quadrature, a.steps)
    except ValueError as e:
        ap.error(f"--steps/--quadrature: {e}")
    if method.uses_images() and a.dataset_root is None:
        ap.error(f"--method {a.method} needs --dataset-root")
    try:
        baseline, target = load_pair(a.baseline, a.target)
        data = None
        degradations = a.degradations
        if method.uses_images():
            data = load_dataset(a.dataset_root, degradations, gt="gt" in method.inputs, clean="clean" in method.inputs)
        elif degradations is None and a.dataset_root is not None:
            degradations = read_manifest(a.dataset_root)["degradations"]
        t0 = time.perf_counter()
        runner = method_class(a.method)(baseline, target, device=a.device, seed=a.seed, precision=a.precision)
        scores = runner.attribute(data, n_steps=a.steps, quadrature=a.quadrature, cache_dir=a.cache,
                                  degradations=degradations, engine=LocalEngine(a.workers))
        out = save_rankings(a.out, scores)
    except FaigLabError as e:
        ap.exit(2, f"error: {e}\n")
    files = ", ".join(str(out / f"{d}_index.txt") for d in scores.degradations)
    print(f"{a.method}: {len(scores)} filters ranked in {time.perf_counter() - t0:.1f} s -> {files}", file=sys.stderr)
    return out
