"""FAIG for N = 3 degradations on the compact pair's own root (blur, noise, JPEG q 50) against an independent
loop written here: the original's left Riemann sum with the network rebuilt at every step, one input at a time,
and the N-way score s_D = A_D − mean_{D' ≠ D} A_D' averaged over images."""
import copy

import numpy as np
import torch

import faig_helpers as fl
from faig_helpers.embedded import JPEG_DATASET_ROOT, pair_paths
from faig_helpers.filters import FilterIndex

STEPS = 100


def independent_scores(baseline: torch.nn.Module, target: torch.nn.Module, data) -> dict[str, np.ndarray]:
    theta_bar, theta = baseline.state_dict(), target.state_dict()
    index = FilterIndex.from_module(target)
    degs = data.degradations
    total = {d: 0.0 for d in degs}
    for i in range(len(data)):
        grads = {d: {k: torch.zeros_like(theta[k]) for k in index.names} for d in degs}
        for step in range(STEPS):
            alpha = step / STEPS  # θ(α) = α θ̄ + (1 − α) θ, α = 0, 1/n, …: the original's left sum from θ
            net = copy.deepcopy(target)
            net.load_state_dict({k: alpha * theta_bar[k] + (1 - alpha) * v for k, v in theta.items()})
            params = dict(net.named_parameters())
            for d in degs:
                net.zero_grad()
                ((net(data[d][i]) - data.gt[i]) ** 2).sum().backward()
                for k in index.names:
                    grads[d][k] += params[k].grad
        attr = {d: torch.cat([(grads[d][k] * (theta_bar[k] - theta[k]) / STEPS).abs().reshape(o * c, -1).sum(1)
                              for k, (o, c) in zip(index.names, index.shapes)]).double().numpy() for d in degs}
        for d in degs:
            others = np.mean([attr[e] for e in degs if e != d], axis=0)
            total[d] = total[d] + (attr[d] - others) / len(data)
    return total


def test_three_way_left_riemann_faig_equals_an_independent_loop():
    data = fl.load_dataset(JPEG_DATASET_ROOT, clean=False, limit=2).subset(size=12)
    assert data.degradations == ["blur", "noise", "jpeg"]
    baseline, target = fl.load_pair(*pair_paths("compact"))
    ours = fl.FAIG(baseline, target).attribute(data, n_steps=STEPS, quadrature="riemann_left", progress=False)
    ref = independent_scores(baseline, target, data)
    for d in data.degradations:
        # float32 sums of 100 steps in another order (AVX512 kernels, channels-last): ~1e-5 of the largest score
        np.testing.assert_allclose(ours.score(d), ref[d], rtol=2e-3, atol=1e-4 * np.abs(ref[d]).max())
        assert fl.top_jaccard(ours.score(d), ref[d], 1.0) == 1.0, d
