"""Small real networks and data for fast tests."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from faig_helpers.archs import MSRResNet, SRCNNStyle
from faig_helpers.checkpoint import load_pair, save_checkpoint
from faig_helpers.degradations import CLEAN, DatasetRoot, degradation
from faig_helpers.images import write_image
from faig_helpers.methods import AbsoluteFilterChange, RandomFilters
from faig_helpers.panel import ModulationPanel
from faig_helpers.rankings import load_scores


def tiny_pair(tmp_path, arch: str = "srresnet", seed: int = 0):
    """A baseline and a perturbed 'target' of a tiny net, saved in BasicSR format."""
    torch.manual_seed(seed)
    base = MSRResNet(num_feat=8, num_block=1, upscale=2) if arch == "srresnet" else SRCNNStyle((8, 8), upscale=2)
    target = type(base)(**({"num_feat": 8, "num_block": 1, "upscale": 2} if arch == "srresnet"
                           else {"channels": (8, 8), "upscale": 2}))
    with torch.no_grad():
        for pb, pt in zip(base.parameters(), target.parameters()):
            pt.copy_(pb + 0.5 * torch.randn_like(pb) * (pb.std() + 1e-2))
    b, t = tmp_path / f"{arch}_baseline.pth", tmp_path / f"{arch}_target.pth"
    save_checkpoint(b, base.state_dict())
    save_checkpoint(t, target.state_dict())
    return b, t


def tiny_data(n: int = 3, size: int = 16, seed: int = 0, degradations=("blur", "noise")) -> DatasetRoot:
    g = torch.Generator().manual_seed(seed)
    gt = [torch.rand(1, 3, size, size, generator=g) for _ in range(n)]
    return DatasetRoot([f"img{i}.png" for i in range(n)], gt,
                       {d: [degradation(d).apply(y, 2, g) for y in gt] for d in degradations},
                       [CLEAN.apply(y, 2) for y in gt])


def save_tiny_root(data: DatasetRoot, root) -> None:
    from faig_helpers.degradations import GT_FOLDER, CLEAN_FOLDER
    from faig_helpers.images import to_image, write_image
    for folder, ts in [(GT_FOLDER, data.gt), (CLEAN_FOLDER, data.clean),
                       *((degradation(d).folder, v) for d, v in data.inputs.items())]:
        for name, t in zip(data.names, ts):
            write_image(root / folder / name, to_image(t))


def write_hr_folder(tmp_path):
    """An HR folder of three images: RGB, 8-bit gray and RGBA (odd sizes)."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "hr"
    write_image(folder / "a.png", rng.random((30, 26, 3)))
    gray = (rng.random((24, 24)) * 255).astype(np.uint8)
    cv2.imwrite(str(folder / "gray.png"), gray)
    rgba = np.dstack([(rng.random((20, 22, 3)) * 255).astype(np.uint8), np.full((20, 22), 128, np.uint8)])
    cv2.imwrite(str(folder / "rgba.png"), rgba)
    return folder


def tiny_panel(tmp_path) -> ModulationPanel:
    """A λ panel on :func:`tiny_pair` (blur: AbsoluteFilterChange's ranking, noise: RandomFilters'), its models also
    as ``panel.models``; its exports go to ``tmp_path / "models"`` as ``tiny_*.pth``."""
    baseline, target = load_pair(*tiny_pair(tmp_path))
    s = AbsoluteFilterChange(baseline, target).attribute()
    s.scores["noise"] = RandomFilters(baseline, target).attribute().score("noise")
    p = ModulationPanel(baseline, target, s, tiny_data(2, size=32), crop=12, export_dir=tmp_path / "models",
                        name="tiny")
    p.models = (baseline, target)
    return p


def saved_state_dict(path, key="params_ema"):
    """The state dict a checkpoint file holds under ``key``."""
    return torch.load(path, map_location="cpu", weights_only=True)[key]


def load_rankings(folder):
    s = load_scores(folder, "x")
    return {"blur": s.ranking("blur"), "noise": s.ranking("noise")}
