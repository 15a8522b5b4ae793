"""A faithful re-implementation of the original FAIG loop, kept as the reference that the fast
:class:`faig_helpers.methods.FAIG` is tested and benchmarked against.

As the original ``faig.py``: for each ranking (noise first, then blur) and each image, the
checkpoints are read, and at each of the ``total_step`` left-Riemann steps α = k/N an
interpolated state dict is built, a new network is constructed and loaded, and one
forward/backward is run per input. Conv-weight gradients are summed, multiplied by (θ̄ − θ)/N,
reduced per filter with Σ|·|, and the two inputs' attributions are subtracted.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from .archs import build, describe
from .checkpoint import load_state_dict
from .degradations import DatasetRoot

__all__ = ["original_faig_scores"]


def _faig_one(img1, img2, gt, baseline_path, target_path, total_step, conv_names, device):
    baseline_sd = load_state_dict(baseline_path)
    target_sd = load_state_dict(target_path)
    spec = describe(target_sd)
    total1, total2 = 0, 0
    for step in range(total_step):
        alpha = step / total_step
        sd = {k: alpha * baseline_sd[k] + (1 - alpha) * target_sd[k] for k in baseline_sd}
        net = build(spec).eval().to(device)
        net.load_state_dict(sd)
        params = dict(net.named_parameters())
        criterion = torch.nn.MSELoss(reduction="sum")
        grads = []
        for img in (img1, img2):
            net.zero_grad()
            criterion(gt, net(img)).backward()
            grads.append(torch.cat([params[k].grad.reshape(-1, 3, 3) for k in conv_names]))
        total1 = total1 + grads[0]
        total2 = total2 + grads[1]
    diff = torch.cat([(baseline_sd[k] - target_sd[k]).reshape(-1, 3, 3) for k in conv_names]).to(device)
    a1 = (total1 * diff / total_step).abs().sum(dim=(1, 2))
    a2 = (total2 * diff / total_step).abs().sum(dim=(1, 2))
    return (a1 - a2).cpu().numpy()


def original_faig_scores(baseline_path: str | os.PathLike, target_path: str | os.PathLike, data: DatasetRoot,
                         total_step: int = 100, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(blur score sum, noise score sum) over images, exactly as the original computes them twice.

    The original ranks with ``np.argsort(score)[::-1]`` of these sums (not means).
    """
    conv_names = [k for k, v in load_state_dict(target_path).items() if "weight" in k]
    to = lambda t: t.to(device)  # noqa: E731
    noise_sum = 0.0
    for i in range(len(data)):
        noise_sum += np.array(_faig_one(to(data.inputs['noise'][i]), to(data.inputs['blur'][i]), to(data.gt[i]), baseline_path,
                                        target_path, total_step, conv_names, device))
    blur_sum = 0.0
    for i in range(len(data)):
        blur_sum += np.array(_faig_one(to(data.inputs['blur'][i]), to(data.inputs['noise'][i]), to(data.gt[i]), baseline_path,
                                       target_path, total_step, conv_names, device))
    return blur_sum, noise_sum
