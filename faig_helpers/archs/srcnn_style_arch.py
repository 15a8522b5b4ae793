"""The FAIG paper's SRCNN-style net (``features.N``): a plain VGG-like stack without a skip connection."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..errors import ArchitectureError
from .registry import register_arch

__all__ = ["SRCNNStyle"]


@register_arch(order=20)
class SRCNNStyle(nn.Module):
    """FAIG's SRCNN-style net: 3×3 conv + LeakyReLU(0.1) per width in ``channels``, then pixel-shuffle
    upsampling conv(s), one more conv + LeakyReLU, and the output conv. Full size: (64, 128×5)."""

    def __init__(self, channels: Sequence[int] = (64, 128, 128, 128, 128, 128), upscale: int = 2,
                 num_in_ch: int = 3, num_out_ch: int = 3) -> None:
        super().__init__()
        if upscale not in (2, 3, 4):
            raise ArchitectureError(f"SRCNNStyle supports upscale 2, 3 or 4, got {upscale}")
        self.upscale = upscale
        layers: list[nn.Module] = []
        c_in = num_in_ch
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, 1, 1), nn.LeakyReLU(0.1)]
            c_in = c
        factors = [3] if upscale == 3 else [2] * int(math.log2(upscale))
        for r in factors:
            layers += [nn.Conv2d(c_in, r * r * c_in, 3, 1, 1), nn.PixelShuffle(r), nn.LeakyReLU(0.1)]
        layers += [nn.Conv2d(c_in, c_in, 3, 1, 1), nn.LeakyReLU(0.1), nn.Conv2d(c_in, num_out_ch, 3, 1, 1)]
        self.features = nn.Sequential(*layers)
        for m in self.modules():  # as the original: kaiming_normal_(fan_out), zero bias
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    @torch.no_grad()
    def identity_init_(self, noise: float = 1e-2) -> "SRCNNStyle":
        """Start training from nearest-neighbour upsampling: every conv passes the RGB channels
        through its centre tap (the upsampling conv feeds all r² sub-pixels), other weights get
        small Gaussian noise. A plain net without a skip connection then learns only the residual
        detail instead of first having to learn the identity — much faster on a CPU budget."""
        layers = list(self.features)
        n = layers[0].in_channels
        for j, m in enumerate(layers):
            if not isinstance(m, nn.Conv2d):
                continue
            m.weight.normal_(0.0, noise / (m.in_channels * 9) ** 0.5)
            m.bias.zero_()
            nxt = layers[j + 1] if j + 1 < len(layers) else None
            k = nxt.upscale_factor ** 2 if isinstance(nxt, nn.PixelShuffle) else 1
            for c in range(min(n, m.in_channels)):
                for sub in range(k):
                    m.weight[c * k + sub, c, 1, 1] = 1.0
        return self

    @classmethod
    def kwargs_from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> dict | None:
        feats = sorted((int(m.group(1)), tuple(v.shape)) for k, v in sd.items()
                       if (m := re.match(r"features\.(\d+)\.weight$", k)))
        if not feats or not all(re.match(r"features\.\d+\.(weight|bias)$", k) for k in sd):
            return None
        if any(len(s) != 4 for _, s in feats):
            return None
        idx = [i for i, _ in feats]
        outs = [s[0] for _, s in feats]
        ins = [s[1] for _, s in feats]
        # upsampling convs are followed by PixelShuffle + LeakyReLU (index gap 3, not 2)
        ups = [j for j in range(len(idx) - 1) if idx[j + 1] - idx[j] == 3]
        if not ups:
            raise ArchitectureError("SRCNN-style keys 'features.N' but no upsampling conv found")
        ratios = [outs[j] // ins[j] for j in ups]
        upscale = 3 if ratios == [9] else 2 ** len(ups) if all(r == 4 for r in ratios) else None
        if upscale is None:
            raise ArchitectureError(f"SRCNN-style upsampling convs expand channels by {ratios}; expected 4 or 9")
        return dict(channels=tuple(outs[: ups[0]]), upscale=upscale, num_in_ch=ins[0], num_out_ch=outs[-1])
