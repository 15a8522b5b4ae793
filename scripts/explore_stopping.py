"""Explore FAIG's adaptive stopping rule: per image, the nested trapezoid levels 3, 5, 9, …, 129 nodes, with
what each candidate rule would look at (the change of the ranked scores between levels, the completeness delta
relative to |ΔL| and to Σ|G ⊙ (θ̄ − θ)|), then the top-1% Jaccard with the 129-node result of every candidate
(start level, tolerance) and its mean nodes.

    python scripts/explore_stopping.py --pair realcugan --images 4 --crop 32
"""
from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import torch

import faig_helpers as fl
from faig_helpers.embedded import DATASET_ROOT, JPEG_DATASET_ROOT, pair_paths
from faig_helpers.methods.faig import scores_of

LEVELS = (3, 5, 9, 17, 33, 65, 129)


def levels_of(faig: fl.FAIG, xs, gt) -> list[dict]:
    """Per level: A (inputs, filters), Σ G⊙Δθ and Σ|G⊙Δθ| per input, ΔL per input."""
    path, y = faig.path, gt
    with torch.no_grad():
        ends = [[((path(x, path.params(a)).double() - y.double()) ** 2).sum().item() for x in xs] for a in (1.0, 0.0)]
    change = np.array(ends[0]) - np.array(ends[1])
    acc = [{n: torch.zeros_like(v) for n, v in path.theta.items()} for _ in xs]
    out, done = [], 0
    for n in LEVELS:
        intervals = n - 1
        if done == 0:
            alphas, weights, keep = fl.quadrature.nodes_and_weights("riemann_trapezoid", n) + (0.0,)
        else:
            alphas = (2 * np.arange(intervals // 2) + 1) / intervals
            weights, keep = np.full(len(alphas), 1.0 / intervals), 0.5
        for d in acc:
            for v in d.values():
                v.mul_(keep)
        for a, w in zip(alphas, weights):
            params = {k: v.detach().requires_grad_() for k, v in path.params(float(a)).items()}
            for d, x in enumerate(xs):
                loss = ((path(x, params).float() - y) ** 2).sum()
                for s, g in zip(acc[d].values(), torch.autograd.grad(loss, list(params.values()), allow_unused=True)):
                    if g is not None:
                        s.add_(g, alpha=float(w))
        done = n
        prod = [{k: g * faig.diff[k] for k, g in d.items()} for d in acc]
        out.append(dict(nodes=n, prod=[{k: v.clone() for k, v in p.items()} for p in prod],
                        A=np.stack([faig.index.per_filter({k: v.abs() for k, v in p.items()}).double().numpy()
                                    for p in prod]),
                        total=np.array([sum(v.double().sum().item() for v in p.values()) for p in prod]),
                        mass=np.array([sum(v.double().abs().sum().item() for v in p.values()) for p in prod]),
                        change=change))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pair", default="realcugan")
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.pair.startswith("realcugan"):
        level = a.pair.partition(":")[2] or "denoise2x"
        b = fl.realcugan_pair()["baseline"]
        t = fl.realcugan_pair()["target"] if level == "denoise2x" else fl.wheel_model(level)
        root = JPEG_DATASET_ROOT
    else:
        (b, t), root = pair_paths(a.pair), JPEG_DATASET_ROOT if a.pair == "compact" else DATASET_ROOT
    data = fl.load_dataset(root, clean=False).subset(a.images, a.crop or None)
    faig = fl.FAIG(*fl.load_pair(b, t))
    per_image = [levels_of(faig, [data.inputs[d][i] for d in data.degradations], data.gt[i]) for i in range(len(data))]
    left = np.mean([scores_of(faig.attribute_inputs([data.inputs[d][i] for d in data.degradations], data.gt[i], 100,
                                                    "riemann_left")["A"]) for i in range(len(data))], axis=0)
    rows = []
    for i, levels in enumerate(per_image):
        before = None
        for lv in levels:
            s = scores_of(lv["A"])
            moved = math.inf if before is None else max(
                float(np.abs(x - y).sum() / np.abs(x).sum()) for x, y in zip(s, before))
            before = s
            rows.append(dict(image=i, nodes=lv["nodes"], moved=moved,
                             delta_dl=float(np.max(np.abs(lv["total"] - lv["change"]) / np.abs(lv["change"]))),
                             delta_mass=float(np.max(np.abs(lv["total"] - lv["change"]) / lv["mass"])),
                             mass_over_dl=float(np.min(lv["mass"] / np.abs(lv["change"])))))
    df = pd.DataFrame(rows)
    print(df.round(4).to_string(index=False))
    ref = np.mean([scores_of(levels[-1]["A"]) for levels in per_image], axis=0)
    degs = data.degradations
    res = []
    print("left-100: worst top-1% Jaccard with the 129-node result",
          round(min(fl.top_jaccard(left[j], ref[j]) for j in range(len(degs))), 3))
    for start in (5, 9):
        for tol in (0.02, 0.05, 0.1, 0.15, 0.2):
            for dtol in (None,):
                chosen, used = [], []
                for i, levels in enumerate(per_image):
                    sub = df[(df.image == i) & (df.nodes >= start)].reset_index(drop=True)
                    stop = len(sub) - 1
                    for k in range(1, len(sub)):
                        if sub.moved[k] <= tol and (dtol is None or sub.delta_mass[k] <= dtol):
                            stop = k
                            break
                    n = int(sub.nodes[stop])
                    used.append(n)
                    chosen.append(scores_of(next(lv for lv in levels if lv["nodes"] == n)["A"]))
                s = np.mean(chosen, axis=0)
                res.append(dict(start=start, tol=tol, dtol=dtol, mean_nodes=np.mean(used), max_nodes=max(used),
                                worst_j=min(fl.top_jaccard(s[j], ref[j]) for j in range(len(degs)))))
    print(pd.DataFrame(res).round(3).to_string(index=False))
    # by what is ranked: the per-image top-1% sets of two levels agree (Jaccard ≥ thr for every degradation)
    res = []
    for thr in (0.8, 0.9, 0.95):
        for tol in (0.05, 0.1, 1.0):
            chosen, used = [], []
            for levels in per_image:
                ks = [k for k, lv in enumerate(levels) if lv["nodes"] >= 5]
                pick = ks[-1]
                for k in ks[1:]:
                    a, b = scores_of(levels[k]["A"]), scores_of(levels[k - 1]["A"])
                    moved = max(float(np.abs(x - y).sum() / np.abs(x).sum()) for x, y in zip(a, b))
                    if moved <= tol and min(fl.top_jaccard(x, y) for x, y in zip(a, b)) >= thr:
                        pick = k
                        break
                used.append(levels[pick]["nodes"])
                chosen.append(scores_of(levels[pick]["A"]))
            s = np.mean(chosen, axis=0)
            res.append(dict(rule="top-set", thr=thr, tol=tol, mean_nodes=np.mean(used),
                            worst_j=min(fl.top_jaccard(s[j], ref[j]) for j in range(len(degs)))))
    print(pd.DataFrame(res).round(3).to_string(index=False))
    # Richardson: S_k = (4 T_k − T_{k−1}) / 3 on G ⊙ Δθ (before |·|), stop when S moves ≤ tol
    def rich(levels, k):
        return np.stack([faig.index.per_filter({n: ((4 * a[n] - b[n]) / 3).abs() for n in a}).double().numpy()
                         for a, b in zip(levels[k]["prod"], levels[k - 1]["prod"])])
    res = []
    for tol in (0.02, 0.05, 0.1):
        chosen, used = [], []
        for levels in per_image:
            ks = [k for k, lv in enumerate(levels) if lv["nodes"] >= 5]
            before, pick = None, None
            for k in ks[1:]:
                sc = scores_of(rich(levels, k))
                if before is not None:
                    moved = max(float(np.abs(x - y).sum() / np.abs(x).sum()) for x, y in zip(sc, before))
                    if moved <= tol:
                        pick = (k, sc)
                        break
                before = sc
            if pick is None:
                pick = (ks[-1], sc)
            used.append(levels[pick[0]]["nodes"])
            chosen.append(pick[1])
        s = np.mean(chosen, axis=0)
        res.append(dict(rule="richardson", tol=tol, mean_nodes=np.mean(used),
                        worst_j=min(fl.top_jaccard(s[j], ref[j]) for j in range(len(degs)))))
    print(pd.DataFrame(res).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
