"""Benchmark a checkpoint sweep: the local thread pool against Ray on this machine, and the cost of one
checkpoint at full size on paper.

    python benchmarks/bench_sweep.py [--checkpoints 8] [--images 8] [--cpus 2] [--quadrature Q --steps N]
                                     [--fullsize-sizes 32 64] [--markdown]

``engines``: a sweep of ``--checkpoints`` checkpoints θ_t = θ̄ + (t/T)·(θ − θ̄) between the embedded SRResNet
pair's baseline and target (BasicSR layout, in a temporary folder), ranked with FAIG on ``--images``
embedded images by ``rank_checkpoints``: with ``LocalEngine`` (1 and ``--cpus`` workers) and with
``RayEngine`` on a local instance of ``--cpus`` CPUs, all in one run (ratios within the run). Ray's
start-up (``ray.init``, then the first tasks importing the package in each worker) is timed apart and
its processes' memory (RSS) is summed. Every engine must give bit-identical rankings.

``fullsize``: the time and the convolution FLOPs of one FAIG pass (forward + backward at θ(α), one input) of
MSRResNet 64×16 ×4 on this CPU at a few LR sizes, scaled to a DIV2K-like validation set (100 images of
1000×700 HR, 250×175 LR at ×4): one checkpoint costs images × degradations × nodes passes (nodes: the
adaptive rule's mean on full-size MSRResNet, README) — the work a Ray cluster divides among its GPUs/CPUs
(divide the PFLOP by a device's sustained convolution throughput).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from faig_helpers import DEFAULT_QUADRATURE, DEFAULT_STEPS, FAIG, RayEngine, load_dataset
from faig_helpers.checkpoint import load_state_dict, save_checkpoint
from faig_helpers.engines import LocalEngine
from faig_helpers.sweeps import rank_checkpoints
from faig_helpers.archs import MSRResNet
from faig_helpers.embedded import DATASET_ROOT, pair_paths

#: the adaptive rule's mean nodes on a full-size MSRResNet ×2 (README, "Speed and accuracy of the integral")
FULLSIZE_NODES = 44


def make_sweep(folder: Path, n: int, net: str = "srresnet") -> tuple[Path, Path]:
    """θ̄ and an experiment folder with ``net_g_{500·t}.pth``, θ_t = θ̄ + (t/n)·(θ − θ̄), t = 1..n."""
    b_path, t_path = pair_paths(net)
    base, target = load_state_dict(b_path), load_state_dict(t_path)
    models = folder / "experiments" / "sweep" / "models"
    for t in range(1, n + 1):
        save_checkpoint(models / f"net_g_{500 * t}.pth", {k: torch.lerp(base[k], target[k], t / n) for k in base})
    return b_path, models.parent


def ray_rss_gb() -> float:
    """Resident memory of the Ray processes of this machine (GB)."""
    import psutil

    total = 0
    for p in psutil.process_iter(["name", "cmdline", "memory_info"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if p.info["memory_info"] is not None and ("ray" in (p.info["name"] or "") or "ray/" in cmd
                                                  or "ray::" in cmd or "raylet" in cmd or "gcs_server" in cmd):
            total += p.info["memory_info"].rss
    return total / 1e9


def engines(a: argparse.Namespace) -> list[dict]:
    import ray

    torch.set_num_threads(1)
    data = load_dataset(DATASET_ROOT, limit=a.images)
    opts = dict(n_steps=a.steps, quadrature=a.quadrature, progress=False)
    rows, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        b, exp = make_sweep(Path(tmp), a.checkpoints)

        def run(name: str, engine) -> None:
            nonlocal first
            out = Path(tmp) / name.replace(" ", "_")
            t0 = time.perf_counter()
            sweep = rank_checkpoints(b, exp, data, out, engine=engine, **opts)
            dt = time.perf_counter() - t0
            got = [s.score(d) for s in sweep.of("faig") for d in data.degradations]
            first = first or got
            same = all(np.array_equal(x, y) for x, y in zip(got, first))
            rows.append(dict(engine=name, seconds=dt, per_checkpoint=dt / a.checkpoints, identical=same))
            print(f"{name}: {dt:.1f} s ({dt / a.checkpoints:.2f} s a checkpoint), identical scores: {same}",
                  flush=True)

        run("local, 1 worker", LocalEngine(workers=1))
        run(f"local, {a.cpus} workers", LocalEngine(workers=a.cpus))
        t0 = time.perf_counter()
        ray.init(num_cpus=a.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        t_init = time.perf_counter() - t0
        t0 = time.perf_counter()  # the first tasks: each worker imports the package
        FAIG(*_tiny()).attribute(data.subset(a.cpus, size=8), n_steps=1, quadrature="riemann_middle", progress=False,
                                 engine=RayEngine())
        t_warm = time.perf_counter() - t0
        rss = ray_rss_gb()
        print(f"Ray start-up: ray.init {t_init:.1f} s, first tasks (workers import faig_helpers) {t_warm:.1f} s, "
              f"{rss:.2f} GB resident", flush=True)
        run(f"ray, {a.cpus} CPUs", RayEngine(cpus_per_task=1))
        ray.shutdown()
    base = rows[1]["seconds"]
    for r in rows:
        r["vs local"] = r["seconds"] / base
    rows.append(dict(engine="ray start-up (init + first tasks)", seconds=t_init + t_warm, rss_gb=rss))
    return rows


def _tiny():
    torch.manual_seed(0)
    m = MSRResNet(num_feat=8, num_block=1, upscale=2)
    t = MSRResNet(num_feat=8, num_block=1, upscale=2)
    return m, t


def conv_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Floating-point operations of one forward pass's convolutions (2 per multiply-add)."""
    total = 0.0

    def hook(m, _inp, out):
        nonlocal total
        total += 2.0 * out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total


def fullsize(a: argparse.Namespace) -> list[dict]:
    """Seconds and FLOPs per FAIG pass of MSRResNet 64×16 ×4 at LR sizes ``a.fullsize_sizes`` (a pass: forward +
    backward at one node for one input, timed as the difference of two node counts, so fixed costs drop out),
    and one checkpoint of 100 images of 1000×700 HR (250×175 LR), two degradations, scaled by pixels."""
    torch.set_num_threads(a.cpus)
    torch.manual_seed(0)
    base, target = MSRResNet(num_feat=64, num_block=16, upscale=4), MSRResNet(num_feat=64, num_block=16, upscale=4)
    with torch.no_grad():
        for p in target.parameters():
            p.add_(0.01 * torch.randn_like(p))
    faig = FAIG(base, target)
    rows = []
    for s in a.fullsize_sizes:
        x, y = torch.rand(1, 3, s, s), torch.rand(1, 3, 4 * s, 4 * s)
        faig.attribute_inputs([x], y, 2, "riemann_middle")  # warm-up
        t = {}
        for n in (2, 6):
            t0 = time.perf_counter()
            faig.attribute_inputs([x], y, n, "riemann_middle")
            t[n] = time.perf_counter() - t0
        per_pass = (t[6] - t[2]) / 4
        flops = 3 * conv_flops(base, x)  # backward ≈ 2 forwards (gradients of inputs and of weights)
        rows.append(dict(lr=f"{s}×{s}", pixels=s * s, seconds_per_pass=per_pass, gflop_per_pass=flops / 1e9,
                         gflop_per_s=flops / 1e9 / per_pass))
    rate = np.median([r["gflop_per_s"] for r in rows]) * 1e9
    images, degs, lr = 100, 2, 250 * 175
    flops = 3 * conv_flops(base, torch.rand(1, 3, 175, 250))
    passes = images * degs * FULLSIZE_NODES
    rows.append(dict(lr="250×175 (one checkpoint)", pixels=lr, seconds_per_pass=flops / rate,
                     gflop_per_pass=flops / 1e9, gflop_per_s=rate / 1e9, passes=passes, pflop=passes * flops / 1e15,
                     cpu_hours=passes * flops / rate / 3600))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoints", type=int, default=8)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--quadrature", default=DEFAULT_QUADRATURE)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--fullsize-sizes", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--only", choices=["engines", "fullsize"], default=None)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    import pandas as pd

    def show(df: pd.DataFrame) -> None:
        if a.markdown:
            cells = [["" if isinstance(v, float) and np.isnan(v) else f"{v:.3g}" if isinstance(v, float) else str(v)
                      for v in row] for row in df.itertuples(index=False)]
            print("| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns))
            print("\n".join("| " + " | ".join(c) + " |" for c in cells))
        else:
            print(df.to_string(index=False))

    if a.only in (None, "engines"):
        print(f"== sweep: {a.checkpoints} checkpoints × {a.images} images, FAIG {a.quadrature} ≤ {a.steps} nodes, "
              f"embedded SRResNet, {a.cpus} CPUs")
        show(pd.DataFrame(engines(a)))
    if a.only in (None, "fullsize"):
        print(f"== full size on paper: MSRResNet 64×16 ×4, {a.cpus} CPU threads, FAIG pass = forward + backward")
        show(pd.DataFrame(fullsize(a)))


if __name__ == "__main__":
    main()
