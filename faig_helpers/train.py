"""Training code for the embedded model pairs (BasicSR-style, CPU-friendly).

Baseline θ̄: trained from scratch on clean ×s inputs only. Target θ: fine-tuned from θ̄ on a mix of
degradations from the registry (the original: blur with probability 0.5 and noise with probability 0.5,
independently).
L1 loss, Adam, random crops + flips + 90° rotations, EMA weights saved as ``params_ema``.
Training is iteration-based and seeded; checkpoints are written atomically every
``save_every`` iterations together with the optimizer state, so an interrupted run resumes.
With ``checkpoints_dir`` and ``checkpoint_every`` the run also keeps intermediate EMA weights in BasicSR's
experiment layout, ``{checkpoints_dir}/models/net_g_{iter}.pth`` (``{'params_ema': sd}``, the last one at
``iters``, equal to the saved model's) beside an ``options.yml`` with the ``network_g`` spec, for sweeps
over training.
"""
from __future__ import annotations

import copy
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .archs import model_scale
from .checkpoint import save_checkpoint
from .degradations import degradation, pipeline
from .images import list_images, read_image
from .errors import ConfigError, ImageError
from .io_utils import atomic_path, atomic_write_text

__all__ = ["TrainConfig", "PairRecipe", "PatchSampler", "degrade_batch", "train", "make_pair"]


@dataclass
class TrainConfig:
    iters: int = 4000
    batch: int = 16
    patch: int = 64  # HR patch size
    lr: float = 2e-4
    lr_min: float = 1e-6  # cosine annealing floor
    ema_decay: float = 0.999
    #: degradation name → probability per sample (empty: clean inputs only, the baseline). Independent draws
    #: by default (the original target: {'blur': ½, 'noise': ½}, a quarter clean, a quarter both); with
    #: ``exclusive`` at most one degradation per sample, clean with the remaining probability.
    mix: dict[str, float] = field(default_factory=dict)
    exclusive: bool = False
    train_biases: bool = True  # False: biases keep their initial (the baseline's) values, only filters learn
    seed: int = 0
    save_every: int = 500
    threads: int | None = None
    #: BasicSR experiment folder for intermediate EMA checkpoints (None: none kept)
    checkpoints_dir: str | None = None
    checkpoint_every: int = 500  # iterations between them (with ``checkpoints_dir``)


def degrade_batch(hr: torch.Tensor, mix: Mapping[str, float], gen: torch.Generator, scale: int = 2,
                  exclusive: bool = False) -> torch.Tensor:
    """Per-sample degradation of an HR batch with the operators of the degradation registry. Each entry
    of ``mix`` (degradation → p) is drawn per sample — independently, or with ``exclusive`` one of them
    (or none) from a single uniform draw — and the chosen operators are applied in pipeline order by
    :func:`~faig_helpers.degradations.pipeline`, the one that makes the test inputs:
    x = J(Q(D_s(k * y) + n)). An empty ``mix`` gives clean inputs Q(D_s(y))."""
    n = hr.shape[0]
    entries = [(degradation(d), float(p)) for d, p in mix.items()]
    if exclusive:
        u = torch.rand(n, generator=gen) if entries else torch.zeros(n)
        bounds = np.cumsum([0.0] + [p for _, p in entries])
        chosen = [(u >= lo) & (u < hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    else:
        chosen = [torch.rand(n, generator=gen) < p for _, p in entries]
    steps = [(op, s, c) for (d, _), c in zip(entries, chosen) for op, s in d.steps]
    return pipeline(hr, steps, scale, gen)


def _experiment_options(net: nn.Module, cfg: TrainConfig, name: str) -> str:
    """A minimal BasicSR-style options YAML for an experiment folder: name, scale, ``network_g`` (when the
    network is a built-in one), and the training settings."""
    import yaml

    from .archs import ArchitectureError, describe

    try:
        spec = describe(net.state_dict())
    except ArchitectureError:
        spec = None
    doc = dict(name=name, model_type="SRModel", scale=model_scale(net), num_gpu=0,
               **({"network_g": spec} if spec else {}),
               train=dict(ema_decay=cfg.ema_decay, total_iter=cfg.iters, batch_size=cfg.batch, gt_size=cfg.patch,
                          optim_g=dict(type="Adam", lr=cfg.lr, betas=[0.9, 0.99]),
                          scheduler=dict(type="CosineAnnealingRestartLR", periods=[cfg.iters], eta_min=cfg.lr_min),
                          pixel_opt=dict(type="L1Loss"), manual_seed=cfg.seed,
                          degradations=dict(cfg.mix), exclusive=cfg.exclusive, train_biases=cfg.train_biases),
               logger=dict(save_checkpoint_freq=cfg.checkpoint_every))
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _save_experiment_checkpoint(folder: Path, it: int, ema: nn.Module) -> Path:
    """``{folder}/models/net_g_{it}.pth`` holding ``{'params_ema': sd}``, written atomically."""
    path = folder / "models" / f"net_g_{it}.pth"
    with atomic_path(path) as tmp:
        torch.save({"params_ema": {k: v.detach().cpu().clone() for k, v in ema.state_dict().items()}}, tmp)
    return path


class PatchSampler:
    """Random HR patches with flips and 90° rotations from a list of images."""

    def __init__(self, images: Sequence[np.ndarray], patch: int, seed: int) -> None:
        self.images = [torch.from_numpy(im.transpose(2, 0, 1).copy()) for im in images if min(im.shape[:2]) >= patch]
        if not self.images:
            raise ImageError(f"no training image is at least {patch}x{patch}")
        self.patch = patch
        self.rng = np.random.default_rng(seed)

    def __call__(self, batch: int) -> torch.Tensor:
        out = []
        for _ in range(batch):
            im = self.images[self.rng.integers(len(self.images))]
            h, w = im.shape[1:]
            y, x = self.rng.integers(h - self.patch + 1), self.rng.integers(w - self.patch + 1)
            p = im[:, y:y + self.patch, x:x + self.patch]
            if self.rng.random() < 0.5:
                p = p.flip(-1)
            if self.rng.random() < 0.5:
                p = p.flip(-2)
            if self.rng.random() < 0.5:
                p = p.transpose(-1, -2)
            out.append(p)
        return torch.stack(out)


def train(net: nn.Module, image_folder: str | os.PathLike, out_path: str | os.PathLike,
          cfg: TrainConfig, init: dict | None = None, progress: bool = True,
          trainable: Mapping[str, torch.Tensor] | None = None) -> Path:
    """Train ``net`` (optionally initialised from state dict ``init``) at its own scale and save the
    EMA weights. A resume file ``<out_path>.resume.pt`` is kept while training and removed at the end.
    With ``cfg.checkpoints_dir`` the EMA weights are also saved every ``cfg.checkpoint_every`` iterations
    (and at the end) as ``{checkpoints_dir}/models/net_g_{iter}.pth`` with an ``options.yml``; checkpoints of
    later iterations left by an earlier run are removed first.

    ``trainable`` (masked training): parameter name → boolean mask broadcastable to it (e.g. a filter
    mask (out, in, 1, 1)); only the True entries learn — the gradient is multiplied by the mask, so
    Adam never moves the others — and every parameter not named is frozen (biases included).
    """
    scale = model_scale(net)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out_path = Path(out_path)
    resume_path = out_path.with_suffix(".resume.pt")
    if init is not None:
        net.load_state_dict(init)
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    for name, p in net.named_parameters():
        p.requires_grad_(cfg.train_biases or not name.endswith("bias"))
    masks = _trainable_masks(net, trainable)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=cfg.lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.iters, eta_min=cfg.lr_min)
    sampler = PatchSampler([read_image(p) for p in list_images(image_folder)], cfg.patch, cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    start = 0
    if resume_path.exists():
        st = torch.load(resume_path, weights_only=False)
        if st["config"] == asdict(cfg) and st.get("trainable") == _mask_digest(masks):
            net.load_state_dict(st["net"]); ema.load_state_dict(st["ema"])
            opt.load_state_dict(st["opt"]); sched.load_state_dict(st["sched"])
            sampler.rng.bit_generator.state = st["rng"]; gen.set_state(st["gen"])
            start = st["iter"]
    exp = Path(cfg.checkpoints_dir) if cfg.checkpoints_dir else None
    if exp is not None:
        if cfg.checkpoint_every < 1:
            raise ConfigError(f"TrainConfig.checkpoint_every: expected >= 1 with checkpoints_dir, "
                              f"got {cfg.checkpoint_every}")
        for old in (exp / "models").glob("net_g_*.pth"):
            if not old.stem.removeprefix("net_g_").isdigit() or int(old.stem.removeprefix("net_g_")) > start:
                old.unlink()
        atomic_write_text(exp / "options.yml", _experiment_options(net, cfg, exp.name))
    params, ema_params = list(net.parameters()), list(ema.parameters())
    net.train()
    losses: list[float] = []
    t0 = time.time()
    bar = tqdm(range(start, cfg.iters), initial=start, total=cfg.iters, desc=f"train {out_path.stem}",
               mininterval=5, disable=not progress)
    for it in bar:
        hr = sampler(cfg.batch)
        lr_img = degrade_batch(hr, cfg.mix, gen, scale, cfg.exclusive)
        loss = F.l1_loss(net(lr_img), hr)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p, m in masks.values():
            if p.grad is not None:
                p.grad.mul_(m)
        opt.step()
        sched.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, params, 1 - cfg.ema_decay)
        losses.append(loss.item())
        if (it + 1) % 50 == 0:
            bar.set_postfix(l1=f"{np.mean(losses[-50:]):.4f}")
        if exp is not None and ((it + 1) % cfg.checkpoint_every == 0 or it + 1 == cfg.iters):
            _save_experiment_checkpoint(exp, it + 1, ema)
        if (it + 1) % cfg.save_every == 0 and it + 1 < cfg.iters:
            with atomic_path(resume_path) as tmp:
                torch.save(dict(config=asdict(cfg), iter=it + 1, net=net.state_dict(), ema=ema.state_dict(),
                                opt=opt.state_dict(), sched=sched.state_dict(),
                                rng=sampler.rng.bit_generator.state, gen=gen.get_state(),
                                trainable=_mask_digest(masks)), tmp)
    bar.close()
    save_checkpoint(out_path, ema.state_dict(), net.state_dict())
    resume_path.unlink(missing_ok=True)
    if progress:
        print(f"{out_path}: {cfg.iters - start} iterations in {time.time() - t0:.0f} s")
    return out_path


def _trainable_masks(net: nn.Module, trainable: Mapping[str, torch.Tensor] | None
                     ) -> dict[str, tuple[nn.Parameter, torch.Tensor]]:
    """``train``'s ``trainable`` checked against the network: name → (parameter, float mask); the
    parameters not named stop requiring gradients. Empty without ``trainable``."""
    if trainable is None:
        return {}
    from .errors import ConfigError

    params = dict(net.named_parameters())
    unknown = sorted(set(trainable) - set(params))
    if unknown:
        raise ConfigError(f"trainable names {unknown[:3]}, which are not parameters of {type(net).__name__}")
    out = {}
    for name, p in params.items():
        if name not in trainable:
            p.requires_grad_(False)
            continue
        m = torch.as_tensor(trainable[name], dtype=torch.bool)
        try:
            torch.broadcast_shapes(m.shape, p.shape)
        except RuntimeError:
            raise ConfigError(f"trainable['{name}']: mask of shape {tuple(m.shape)} does not broadcast to the "
                              f"parameter's {tuple(p.shape)}") from None
        p.requires_grad_(True)
        out[name] = (p, m.to(p.device, p.dtype))
    return out


def _mask_digest(masks: Mapping[str, tuple[nn.Parameter, torch.Tensor]]) -> str | None:
    """What a resume file records of ``trainable`` (None without it)."""
    if not masks:
        return None
    from .io_utils import tensor_digest

    return tensor_digest(*(m for _, m in masks.values())) + ":" + ",".join(masks)


@dataclass
class PairRecipe:
    """How a baseline/target pair is trained: the architecture (``archs.describe`` form, ``{'type': ...}``),
    the baseline's run on clean inputs (from scratch) and the target's on the mix (from the baseline)."""

    spec: dict
    baseline: TrainConfig
    target: TrainConfig
    identity_init: bool = False  # start a plain SRCNN-style baseline from nearest-neighbour upsampling


def make_pair(recipe: PairRecipe, image_folder: str | os.PathLike, baseline_path: str | os.PathLike,
              target_path: str | os.PathLike, progress: bool = True) -> tuple[Path, Path]:
    """Train a baseline θ̄ and fine-tune a target θ from it, seeded: the same recipe gives the same pair."""
    from .archs import build_network
    from .checkpoint import load_state_dict

    torch.manual_seed(recipe.baseline.seed)
    net = build_network(recipe.spec)
    if recipe.identity_init:
        net.identity_init_()
    train(net, image_folder, baseline_path, recipe.baseline, progress=progress)
    torch.manual_seed(recipe.target.seed)
    train(build_network(recipe.spec), image_folder, target_path, recipe.target, init=load_state_dict(baseline_path),
          progress=progress)
    return Path(baseline_path), Path(target_path)
