"""BasicSR's modified SRResNet (``MSRResNet``): ``conv_first``, ``body.N.conv1/conv2``, ``upconv1``/``upconv2``,
``conv_hr``, ``conv_last``; output = net(x) + bilinear(x). Full size: 64 features, 16 blocks."""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ArchitectureError
from .arch_util import ResidualBlockNoBN, block_count, default_init_weights, only_keys
from .registry import register_arch

__all__ = ["MSRResNet"]


@register_arch(order=10)
class MSRResNet(nn.Module):
    """Modified SRResNet (BasicSR ``MSRResNet``); ×2, ×3 or ×4."""

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_block: int = 16, upscale: int = 4) -> None:
        super().__init__()
        if upscale not in (2, 3, 4):
            raise ArchitectureError(f"MSRResNet supports upscale 2, 3 or 4, got {upscale}")
        self.upscale = upscale
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat) for _ in range(num_block)])
        r = 3 if upscale == 3 else 2
        self.upconv1 = nn.Conv2d(num_feat, num_feat * r * r, 3, 1, 1)
        if upscale == 4:
            self.upconv2 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(r)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.1)
        default_init_weights(self, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(self.lrelu(self.conv_first(x)))
        out = self.lrelu(self.pixel_shuffle(self.upconv1(out)))
        if self.upscale == 4:
            out = self.lrelu(self.pixel_shuffle(self.upconv2(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        base = F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)
        return out + base

    @classmethod
    def kwargs_from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> dict | None:
        if not {"conv_first.weight", "upconv1.weight", "conv_hr.weight", "conv_last.weight"} <= set(sd) or \
                not only_keys(sd, r"conv_first|body\.\d+\.conv[12]|upconv[12]|conv_hr|conv_last"):
            return None
        num_feat = sd["conv_first.weight"].shape[0]
        up1 = sd["upconv1.weight"].shape[0]
        upscale = 4 if "upconv2.weight" in sd else {4 * num_feat: 2, 9 * num_feat: 3}.get(up1)
        if upscale is None:
            raise ArchitectureError(f"MSRResNet keys, but 'upconv1.weight' has {up1} output channels; "
                                    f"expected 4× or 9× num_feat={num_feat}")
        return dict(num_in_ch=sd["conv_first.weight"].shape[1], num_out_ch=sd["conv_last.weight"].shape[0],
                    num_feat=num_feat, num_block=block_count(sd, r"body\.(\d+)\.conv1\.weight$"), upscale=upscale)
