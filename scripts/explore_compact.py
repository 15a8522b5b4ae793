"""Explore training recipes for the embedded compact pair (SRVGGNetCompact ×2, blur + noise + JPEG q 50) and
check a pair's claims with the library, on the pair's own evaluation root (``data/datasets/embedded_jpeg``).

For one recipe: train (or reuse) the baseline on clean inputs, fine-tune the target on the mix, then report

* PSNR (dB, RGB, border 2) of baseline and target on clean / blurry / noisy / JPEG inputs and the gains;
* the N×N substitution table (``fl.compare``, output_difference) at 1% and 5% for every registered method, and
  notebook 02's claims on it (``fl.substitution_claims``: directions, FAIG first, colour);
* the colour shift of each FAIG set (mean over the N inputs of ``colour_shift``, 8-bit levels), at 1% and 5%.

Outputs go to ``results/compact_explore/`` (git-ignored). Examples (one thread, as the machine is shared)::

    OMP_NUM_THREADS=1 .venv/bin/python scripts/explore_compact.py --name r1 --lr 5e-4 --mix 0.25 0.25 0.25
    OMP_NUM_THREADS=1 .venv/bin/python scripts/explore_compact.py --check-shipped   # the shipped pair
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import torch

import faig_helpers as fl
from faig_helpers.archs import build_network
from faig_helpers.checkpoint import load_state_dict
from faig_helpers.embedded import JPEG_DATASET_ROOT, TRAIN_DIR, pair_paths
from faig_helpers.layout import REPO
from faig_helpers.train import TrainConfig, train

OUT = REPO / "results" / "compact_explore"
MAX_COLOUR_SHIFT = 2.0  # 8-bit levels, as notebook 02


def check_pair(baseline: Path, target: Path, results: Path, proportions=(1, 5)) -> dict:
    """Gains, the substitution table's claims and colour of a pair on the compact pair's root."""
    t0 = time.perf_counter()
    lab = fl.setup({"compact": dict(baseline=baseline, target=target, dataset_root=JPEG_DATASET_ROOT)},
                   methods=None, results_dir=results, figures_dir=results / "figures")
    p = lab.pair
    q = fl.quality_table({"baseline": p.baseline, "target": p.target}, p.data)
    gains = (q.loc["target"] - q.loc["baseline"]).round(2).to_dict()
    table = fl.compare(p.baseline, p.target, lab.rankings["compact"], p.data, proportions, progress=False)
    claims = fl.substitution_claims(table, proportions, MAX_COLOUR_SHIFT, subject="compact")
    return dict(baseline_psnr=q.loc["baseline"].round(2).to_dict(), target_psnr=q.loc["target"].round(2).to_dict(),
                gains=gains, claims_hold=claims.all_hold, claims=claims.text().splitlines(),
                n_filters=len(p.index), check_seconds=round(time.perf_counter() - t0, 1),
                table=table.to_dict("records"))


def markdown_tables(res: dict, proportions=(1, 5)) -> str:
    """The N×N substitution table (rows: the substituted FAIG set, columns: the inputs), FAIG's output difference
    and, on the diagonal, the best other method's; then the colour shift (8-bit levels) and PSNR (dB) of each set."""
    import pandas as pd

    t = pd.DataFrame(res["table"])
    degs = list(dict.fromkeys(t.masked))
    lines = []
    for prop in proportions:
        tp = t[t.proportion == prop]
        lines += [f"\n**{prop}%** (output difference; diagonal: FAIG vs best other)\n",
                  "| substituted set | " + " | ".join(f"{d} inputs" for d in degs) + " | colour (mean) |",
                  "|---" * (len(degs) + 2) + "|"]
        for d in degs:
            row = []
            for e in degs:
                c = tp[(tp.masked == d) & (tp.input_degradation == e)].set_index("method")
                f = c.loc["faig", "output_difference"]
                if d == e:
                    others = c.drop("faig").output_difference
                    row.append(f"**{f:.3f}** vs {others.idxmax()} {others.max():.3f}")
                else:
                    row.append(f"{f:.3f}")
            colour = tp[(tp.masked == d) & (tp.method == "faig")].colour_shift.mean()
            lines.append(f"| FAIG {d} | " + " | ".join(row) + f" | {colour:.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="run")
    ap.add_argument("--check-shipped", action="store_true", help="check the shipped compact pair only")
    ap.add_argument("--num-feat", type=int, default=32)
    ap.add_argument("--num-conv", type=int, default=8)
    ap.add_argument("--act", default="prelu")
    ap.add_argument("--base-lr", type=float, default=5e-4)
    ap.add_argument("--base-iters", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--iters", type=int, default=4000)
    ap.add_argument("--mix", type=float, nargs=3, default=[0.25, 0.25, 0.25], metavar=("BLUR", "NOISE", "JPEG"))
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay of the fine-tune")
    ap.add_argument("--patch", type=int, default=64, help="HR patch size of the fine-tune")
    ap.add_argument("--batch", type=int, default=16, help="batch size of the fine-tune")
    ap.add_argument("--independent", action="store_true", help="independent draws instead of an exclusive mix")
    ap.add_argument("--no-biases", action="store_true", help="freeze biases in the fine-tune")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    OUT.mkdir(parents=True, exist_ok=True)
    if a.check_shipped:
        res = check_pair(*pair_paths("compact"), OUT / "lab_shipped")
        md = markdown_tables(res)
        res.pop("table")
        print(json.dumps(res, indent=1, ensure_ascii=False))
        print(md)
        return
    spec = dict(type="SRVGGNetCompact", num_feat=a.num_feat, num_conv=a.num_conv, upscale=2, act_type=a.act)
    bcfg = TrainConfig(iters=a.base_iters, lr=a.base_lr, seed=0)
    key = hashlib.sha1(json.dumps([spec, bcfg.iters, bcfg.lr], sort_keys=True).encode()).hexdigest()[:8]
    b_path = OUT / f"baseline_{key}.pth"
    secs = {}
    if not b_path.exists():
        torch.manual_seed(bcfg.seed)
        t0 = time.perf_counter()
        train(build_network(spec), TRAIN_DIR, b_path, bcfg)
        secs["baseline"] = round(time.perf_counter() - t0)
    mix = {d: p for d, p in zip(("blur", "noise", "jpeg"), a.mix) if p > 0}
    tcfg = TrainConfig(iters=a.iters, lr=a.lr, mix=mix, exclusive=not a.independent, train_biases=not a.no_biases,
                       seed=1, ema_decay=a.ema, patch=a.patch, batch=a.batch)
    t_path = OUT / f"target_{a.name}.pth"
    torch.manual_seed(tcfg.seed)
    t0 = time.perf_counter()
    train(build_network(spec), TRAIN_DIR, t_path, tcfg, init=load_state_dict(b_path))
    secs["target"] = round(time.perf_counter() - t0)
    res = check_pair(b_path, t_path, OUT / f"lab_{a.name}")
    res.update(name=a.name, spec=spec, baseline_cfg=dict(iters=bcfg.iters, lr=bcfg.lr),
               target_cfg=dict(iters=tcfg.iters, lr=tcfg.lr, mix=mix, exclusive=tcfg.exclusive,
                               train_biases=tcfg.train_biases, ema_decay=tcfg.ema_decay, patch=tcfg.patch,
                               batch=tcfg.batch), seconds=secs, baseline=str(b_path), target=str(t_path))
    (OUT / f"{a.name}.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    md = markdown_tables(res)
    res.pop("table")
    print(json.dumps(res, indent=1, ensure_ascii=False))
    print(md)


if __name__ == "__main__":
    main()
