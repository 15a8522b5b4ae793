"""Benchmark FAIG: speed against the faithful original loop, and accuracy of every quadrature rule
against a converged reference, on the embedded pairs and on full-size pairs of both families.

    python benchmarks/bench_faig.py speed [--net srresnet] [--threads 2] [--markdown]
    python benchmarks/bench_faig.py accuracy [--pairs embedded-srresnet fullsize-srcnn_style ...] [--markdown]

``speed``: wall time of the faithful original loop (model rebuilt per step, computation run once per
ranking, left Riemann sum, 100 steps) and of ours for each rule, all 8 embedded images at full size,
in one run; speed-ups are ratios measured in that run.

``accuracy``: for each pair, a reference integral (composite midpoint rule, 512 nodes; its top-1% sets
are compared with 256 nodes to show it is converged) on small centre crops, and the top-1% Jaccard of
every rule × N with it; the original's left-100 sum is the bar a default must clear. Full-size pairs
(MSRResNet 64×16 and the SRCNN-style 64/128×5 net, ×2) are trained here by ``make_pair`` from fixed
seeds and cached under ``results/bench/``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from faig_helpers import (DEFAULT_QUADRATURE, DEFAULT_STEPS, FAIG, PairRecipe, TrainConfig, load_dataset, load_pair,
                          make_pair, original_faig_scores, top_jaccard)
from faig_helpers.embedded import DATASET_ROOT, PAIRS, TRAIN_DIR, pair_paths
from faig_helpers.quadrature import ADAPTIVE, ADAPTIVE_MAX

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "results" / "bench"
RULES = ("riemann_middle", "riemann_trapezoid", "gausslegendre")  # and the original's riemann_left with 100

#: full-size pairs: the architectures of the paper, briefly trained (real SR models, not converged ones)
FULLSIZE = {
    "fullsize-srresnet": PairRecipe(dict(type="MSRResNet", num_feat=64, num_block=16, upscale=2),
                                    TrainConfig(iters=200, batch=4, patch=48, lr=2e-4, seed=0,
                                                ema_decay=0.99),
                                    TrainConfig(iters=200, batch=4, patch=48, lr=5e-4, seed=1,
                                                mix={"blur": 0.5, "noise": 0.5}, ema_decay=0.99)),
    "fullsize-srcnn_style": PairRecipe(dict(type="SRCNNStyle", channels=(64, 128, 128, 128, 128, 128), upscale=2),
                                       TrainConfig(iters=200, batch=4, patch=48, lr=2e-4, seed=0,
                                                   ema_decay=0.99),
                                       TrainConfig(iters=200, batch=4, patch=48, lr=5e-4, seed=1,
                                                   mix={"blur": 0.5, "noise": 0.5}, ema_decay=0.99),
                                       identity_init=True),
}


def pair(name: str) -> tuple[Path, Path]:
    """Checkpoint paths of an embedded ('embedded-NET') or full-size pair (trained on first use)."""
    if name.startswith("embedded-"):
        return pair_paths(name.removeprefix("embedded-"))
    b, t = BENCH / f"{name}_baseline.pth", BENCH / f"{name}_target.pth"
    if not (b.exists() and t.exists()):
        make_pair(FULLSIZE[name], TRAIN_DIR, b, t)
    return b, t


def configs(a: argparse.Namespace) -> list[tuple[str, int]]:
    """The rules measured: ``--configs rule:N ...``, or the original's left-100, every rule at ``--nodes``,
    the adaptive rule and the default."""
    if a.configs:
        return [(c.split(":")[0], int(c.split(":")[1])) for c in a.configs]
    grid = [("riemann_left", 100)] + [(r, n) for r in RULES for n in a.nodes] + [(ADAPTIVE, ADAPTIVE_MAX)]
    return list(dict.fromkeys(grid + [(DEFAULT_QUADRATURE, DEFAULT_STEPS)]))


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t0


def speed(a: argparse.Namespace) -> pd.DataFrame:
    b_path, t_path = pair_paths(a.net)
    data = load_dataset(DATASET_ROOT, clean=False, limit=a.images)
    faig = FAIG(*load_pair(b_path, t_path), device=a.device)
    faig.attribute(data, n_steps=2, quadrature="riemann_middle", progress=False)  # warm-up
    (orig_blur, orig_noise), t_orig = timed(lambda: original_faig_scores(b_path, t_path, data, 100, a.device or "cpu"))
    ref = faig.attribute(data, n_steps=512, quadrature="riemann_middle", progress=False)
    rows = []
    for rule, n in configs(a):
        s, t = timed(lambda: faig.attribute(data, n_steps=n, quadrature=rule, progress=False))
        rows.append(dict(rule=rule, nodes=n, mean_nodes=float(np.mean(s.info.get("nodes") or [n])), seconds=t,
                         speedup=t_orig / t,
                         j_ref_blur=top_jaccard(s.score("blur"), ref.score("blur")),
                         j_ref_noise=top_jaccard(s.score("noise"), ref.score("noise")),
                         j_orig_blur=top_jaccard(s.score("blur"), orig_blur),
                         j_orig_noise=top_jaccard(s.score("noise"), orig_noise),
                         abs_delta=float(np.abs(s.delta).mean())))
    print(f"speed: net={a.net} images={len(data)} threads={torch.get_num_threads()} filters={len(ref)}; "
          f"original loop (left Riemann, 100 steps, model rebuilt per step, run once per ranking): {t_orig:.1f} s; "
          f"reference: riemann_middle × 512")
    return pd.DataFrame(rows).drop_duplicates(["rule", "nodes"], keep="last")


def accuracy(a: argparse.Namespace) -> pd.DataFrame:
    rows = []
    for name in a.pairs:
        b_path, t_path = pair(name)
        data = load_dataset(DATASET_ROOT, clean=False, limit=a.images).subset(size=a.crop or None)
        faig = FAIG(*load_pair(b_path, t_path), device=a.device)
        ref = faig.attribute(data, n_steps=512, quadrature="riemann_middle", progress=False)
        half = faig.attribute(data, n_steps=256, quadrature="riemann_middle", progress=False)
        print(f"accuracy: {name}: {len(ref)} filters, {len(data)} images of {a.crop or 'whole'} LR pixels; reference "
              f"midpoint-512 vs 256: top-1% Jaccard {top_jaccard(half.score('blur'), ref.score('blur')):.3f} (blur) / "
              f"{top_jaccard(half.score('noise'), ref.score('noise')):.3f} (noise)")
        for rule, n in configs(a):
            s, t = timed(lambda: faig.attribute(data, n_steps=n, quadrature=rule, progress=False))
            nodes = float(np.mean(s.info.get("nodes") or [n]))
            rows.append(dict(pair=name, rule=rule, nodes=n, mean_nodes=nodes, seconds=t,
                             j_blur=top_jaccard(s.score("blur"), ref.score("blur")),
                             j_noise=top_jaccard(s.score("noise"), ref.score("noise")),
                             abs_delta=float(np.abs(s.delta).mean())))
            print("  ", {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["speed", "accuracy"])
    ap.add_argument("--net", default="srresnet", choices=list(PAIRS))
    ap.add_argument("--pairs", nargs="+", default=[f"embedded-{n}" for n in PAIRS] + list(FULLSIZE))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--device", default=None)
    ap.add_argument("--tag", default="", help="suffix of the saved CSV")
    ap.add_argument("--nodes", type=int, nargs="+", default=[8, 16, 24, 32, 64])
    ap.add_argument("--configs", nargs="+", default=None, help="rule:N pairs to measure (default: a grid)")
    ap.add_argument("--crop", type=int, default=24, help="accuracy: LR centre crop of each image (0: whole images)")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    df = speed(a) if a.what == "speed" else accuracy(a)
    out = BENCH / f"{a.what}{'-' + a.tag if a.tag else ''}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    if a.markdown:
        cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in df.itertuples(index=False)]
        print("| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns))
        print("\n".join("| " + " | ".join(c) + " |" for c in cells))
    else:
        print(df.round(4).to_string(index=False))
    print(f"(saved {out})")


if __name__ == "__main__":
    main()
