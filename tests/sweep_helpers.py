"""Tiny fine-tuning runs in BasicSR's experiment layout, and engines that record or interrupt a run."""
from __future__ import annotations

import shutil

import torch
import yaml

from faig_helpers.archs import MSRResNet
from faig_helpers.checkpoint import save_checkpoint

SPEC = dict(type="MSRResNet", num_feat=8, num_block=1, upscale=2)


def tiny_experiment(tmp_path, n: int = 3, every: int = 100, latest: bool = True, seed: int = 0):
    """A baseline and ``experiments/tiny/models/net_g_{every·k}.pth`` for k = 1..n: θ_k = θ̄ + (k/n)·Δ + a little
    of its own, so every checkpoint differs; ``net_g_latest.pth`` a copy of the last; an ``options.yml``."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    base = MSRResNet(**{k: v for k, v in SPEC.items() if k != "type"})
    sd = {k: v.clone() for k, v in base.state_dict().items()}
    delta = {k: 0.5 * torch.randn(v.shape, generator=g) * (v.std() + 1e-2) for k, v in sd.items()}
    exp = tmp_path / "experiments" / "tiny"
    (exp / "models").mkdir(parents=True)
    (exp / "options.yml").write_text(yaml.safe_dump({"name": "tiny", "network_g": SPEC}))
    b = save_checkpoint(tmp_path / "baseline.pth", sd)
    for k in range(1, n + 1):
        own = {n_: 0.05 * torch.randn(v.shape, generator=g) * (v.std() + 1e-2) for n_, v in sd.items()}
        save_checkpoint(exp / "models" / f"net_g_{every * k}.pth",
                        {n_: v + (k / n) * delta[n_] + own[n_] for n_, v in sd.items()})
    if latest:
        shutil.copy(exp / "models" / f"net_g_{every * n}.pth", exp / "models" / "net_g_latest.pth")
    return b, exp


class Interrupted(Exception):
    """Raised by :class:`Interrupting` to stop a run part-way, as Ctrl-C would."""


class Recording:
    """Wraps an engine: records the items of every ``map`` call and, with ``stop_after``, raises
    :class:`Interrupted` once that many results have been yielded in all."""

    def __init__(self, inner, stop_after: int | None = None) -> None:
        self.inner, self.stop_after, self.calls, self.yielded = inner, stop_after, [], 0

    @property
    def items(self) -> list:
        return [i for call in self.calls for i in call]

    def map(self, task, items, model, device):
        self.calls.append(list(items))
        gen = self.inner.map(task, items, model, device)
        try:
            for out in gen:
                if self.stop_after is not None and self.yielded >= self.stop_after:
                    raise Interrupted(f"stopped after {self.yielded} results")
                self.yielded += 1
                yield out
        finally:
            gen.close()
