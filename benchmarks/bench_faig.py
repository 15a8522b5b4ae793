"""Benchmark: the faithful original FAIG loop against ours, in one run, on the embedded default.

Prints wall times, the speed-up ratio, and the agreement (top-1%/top-5% Jaccard, Spearman ρ of the
blur scores) of every quadrature rule and node count against a 64-node Gauss–Legendre reference.
Usage: python benchmarks/bench_faig.py [--net srresnet] [--threads 2] [--images 8] [--markdown]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from faig_helpers.attribution import FAIG, top_jaccard
from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import load_dataset
from faig_helpers.embedded import DATASET_ROOT, pair_paths
from faig_helpers.reference import original_faig_scores


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", default="srresnet")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--device", default=None)
    ap.add_argument("--nodes", type=int, nargs="+", default=[8, 16, 24, 32])
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    b_path, t_path = pair_paths(a.net)
    data = load_dataset(DATASET_ROOT, ("gt", "blur", "noise"), limit=a.images)
    baseline, target = load_pair(b_path, t_path)
    faig = FAIG(baseline, target, a.device)

    def timed(fn):
        t0 = time.perf_counter()
        r = fn()
        return r, time.perf_counter() - t0

    faig.attribute(data, 2, "riemann_left", progress=False)  # warm-up
    (orig_blur, orig_noise), t_orig = timed(lambda: original_faig_scores(b_path, t_path, data, 100, a.device or "cpu"))
    ref, t_ref = timed(lambda: faig.attribute(data, 64, "gausslegendre", return_convergence_delta=True, progress=False))
    rows = []
    configs = [("riemann_left", 100)] + [(m, n) for m in ("riemann_left", "riemann_middle", "riemann_trapezoid",
                                                          "gausslegendre") for n in a.nodes]
    for method, n in configs:
        s, t = timed(lambda: faig.attribute(data, n, method, return_convergence_delta=True, progress=False))
        rows.append((method, n, t, t_orig / t, top_jaccard(s.blur, ref.blur, 0.01), top_jaccard(s.noise, ref.noise, 0.01),
                     top_jaccard(s.blur, ref.blur, 0.05),
                     spearmanr(s.blur, ref.blur)[0], float(np.abs(s.delta).mean()),
                     top_jaccard(s.blur, orig_blur, 0.01), top_jaccard(s.noise, orig_noise, 0.01)))
    print(f"net={a.net} images={len(data)} threads={a.threads} filters={len(ref.blur)}")
    print(f"original loop (riemann_left, 100 steps, ranking computed twice, model rebuilt per step): {t_orig:.1f} s")
    print(f"reference gausslegendre-64: {t_ref:.1f} s, mean |relative completeness delta| {np.abs(ref.delta).mean():.2e}")
    hdr = ("rule", "N", "time s", "speed-up vs original", "top1% J vs GL64 (blur)", "top1% J vs GL64 (noise)",
           "top5% J vs GL64 (blur)", "Spearman vs GL64",
           "mean |rel. delta|", "top1% J vs original (blur)", "top1% J vs original (noise)")
    fmt = lambda r: [r[0], str(r[1]), f"{r[2]:.2f}", f"{r[3]:.1f}x", f"{r[4]:.3f}", f"{r[5]:.3f}", f"{r[6]:.3f}",  # noqa
                     f"{r[7]:.4f}", f"{r[8]:.1e}", f"{r[9]:.3f}", f"{r[10]:.3f}"]
    if a.markdown:
        print("| " + " | ".join(hdr) + " |\n|" + "---|" * len(hdr))
        for r in rows:
            print("| " + " | ".join(fmt(r)) + " |")
    else:
        print("  ".join(f"{h:>12}" for h in hdr))
        for r in rows:
            print("  ".join(f"{c:>12}" for c in fmt(r)))


if __name__ == "__main__":
    main()
