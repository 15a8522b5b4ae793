"""BasicSR's ``EDSR``: ``conv_first``, ``body.N.conv1/conv2`` (residual blocks scaled by ``res_scale``),
``conv_after_body``, ``upsample.{0,2,…}`` (pixel-shuffle convs), ``conv_last``; inputs are shifted by ``rgb_mean``
and scaled by ``img_range`` as BasicSR. ``res_scale``, ``img_range`` and ``rgb_mean`` are not stored in a
state dict: they take BasicSR's defaults unless given (e.g. from the experiment's options YAML)."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..errors import ArchitectureError
from .arch_util import ResidualBlockNoBN, block_count, only_keys
from .registry import register_arch

__all__ = ["Upsample", "EDSR"]


class Upsample(nn.Sequential):
    """BasicSR's ``Upsample``: (conv to 4·num_feat, PixelShuffle(2)) × log2(scale), or one ×3 step."""

    def __init__(self, scale: int, num_feat: int) -> None:
        layers: list[nn.Module] = []
        if scale & (scale - 1) == 0:
            for _ in range(int(math.log2(scale))):
                layers += [nn.Conv2d(num_feat, 4 * num_feat, 3, 1, 1), nn.PixelShuffle(2)]
        elif scale == 3:
            layers += [nn.Conv2d(num_feat, 9 * num_feat, 3, 1, 1), nn.PixelShuffle(3)]
        else:
            raise ArchitectureError(f"EDSR supports upscale 2^n or 3, got {scale}")
        super().__init__(*layers)


@register_arch(order=50)
class EDSR(nn.Module):
    """Enhanced deep residual network (BasicSR ``EDSR``)."""

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64, num_block: int = 16,
                 upscale: int = 4, res_scale: float = 1, img_range: float = 255.0,
                 rgb_mean: Sequence[float] = (0.4488, 0.4371, 0.4040)) -> None:
        super().__init__()
        self.upscale, self.img_range = upscale, img_range
        # BasicSR keeps the mean as a plain attribute: not in the state dict (non-persistent buffer here)
        self.register_buffer("mean", torch.tensor(rgb_mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat, res_scale) for _ in range(num_block)])
        self.conv_after_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.upsample = Upsample(upscale, num_feat)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.mean.type_as(x)
        x = self.conv_first((x - mean) * self.img_range)
        res = self.conv_after_body(self.body(x)) + x
        return self.conv_last(self.upsample(res)) / self.img_range + mean

    @classmethod
    def kwargs_from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> dict | None:
        if not {"conv_first.weight", "conv_after_body.weight", "upsample.0.weight", "conv_last.weight"} <= set(sd) or \
                not only_keys(sd, r"conv_first|body\.\d+\.conv[12]|conv_after_body|upsample\.\d+|conv_last"):
            return None
        num_feat = sd["conv_first.weight"].shape[0]
        ups = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"upsample\.(\d+)\.weight", k)))
        ratio = sd["upsample.0.weight"].shape[0] // num_feat
        if ups != list(range(0, 2 * len(ups), 2)) or ratio not in (4, 9) or (ratio == 9 and len(ups) > 1):
            raise ArchitectureError(f"EDSR keys, but upsampling convs {['upsample.%d.weight' % i for i in ups]} "
                                    f"expand num_feat={num_feat} by {ratio}: expected 4 (×2^n) or 9 (×3)")
        return dict(num_in_ch=sd["conv_first.weight"].shape[1], num_out_ch=sd["conv_last.weight"].shape[0],
                    num_feat=num_feat, num_block=block_count(sd, r"body\.(\d+)\.conv1\.weight$"),
                    upscale=3 if ratio == 9 else 2 ** len(ups))
