"""Real-ESRGAN's ``SRVGGNetCompact`` (``body.N``): conv + activation × (num_conv + 1), a last conv to
num_out_ch · upscale² channels, pixel shuffle, plus the nearest-upsampled input."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ArchitectureError
from .registry import register_arch

__all__ = ["SRVGGNetCompact"]

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _activation(act_type: str, num_feat: int) -> nn.Module:
    if act_type == "relu":
        return nn.ReLU()
    if act_type == "prelu":
        return nn.PReLU(num_parameters=num_feat)
    if act_type == "leakyrelu":
        return nn.LeakyReLU(negative_slope=0.1)
    raise ArchitectureError(f"SRVGGNetCompact act_type must be 'relu', 'prelu' or 'leakyrelu', got '{act_type}'")


@register_arch(order=40)
class SRVGGNetCompact(nn.Module):
    """Compact VGG-style SR net of Real-ESRGAN (``realesr-general-x4v3``, ``realesr-animevideov3``)."""

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64, num_conv: int = 16,
                 upscale: int = 4, act_type: str = "prelu") -> None:
        super().__init__()
        self.num_in_ch, self.num_out_ch, self.num_feat, self.num_conv = num_in_ch, num_out_ch, num_feat, num_conv
        self.upscale, self.act_type = upscale, act_type
        self.body = nn.ModuleList([nn.Conv2d(num_in_ch, num_feat, 3, 1, 1), _activation(act_type, num_feat)])
        for _ in range(num_conv):
            self.body.extend([nn.Conv2d(num_feat, num_feat, 3, 1, 1), _activation(act_type, num_feat)])
        self.body.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.upsampler = nn.PixelShuffle(upscale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.upscale, mode="nearest")

    @classmethod
    def kwargs_from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> dict | None:
        if not sd or not all(re.fullmatch(r"body\.\d+\.(weight|bias)", k) for k in sd) or "body.0.weight" not in sd:
            return None
        convs = sorted(int(k.split(".")[1]) for k, v in sd.items() if k.endswith(".weight") and v.ndim == 4)
        prelu = "body.1.weight" in sd and sd["body.1.weight"].ndim == 1
        if convs != list(range(0, 2 * len(convs), 2)) or len(convs) < 2:
            return None
        num_feat, num_in_ch = sd["body.0.weight"].shape[:2]
        last = sd[f"body.{convs[-1]}.weight"].shape[0]
        # the last conv has num_out_ch · upscale² outputs; num_out_ch = num_in_ch as in every released model
        upscale = round((last / num_in_ch) ** 0.5)
        if upscale * upscale * num_in_ch != last:
            raise ArchitectureError(f"SRVGGNetCompact keys, but the last conv 'body.{convs[-1]}.weight' has {last} "
                                    f"outputs: not num_in_ch={num_in_ch} × upscale²")
        if not prelu and "act" not in _warned:
            _warned.add("act")
            log.warning("SRVGGNetCompact without PReLU weights: 'relu' and 'leakyrelu' give the same state dict; "
                        "assuming 'relu' (pass arch={'type': 'SRVGGNetCompact', 'act_type': 'leakyrelu', ...} "
                        "otherwise)")
        return dict(num_in_ch=num_in_ch, num_out_ch=num_in_ch, num_feat=num_feat, num_conv=len(convs) - 2,
                    upscale=upscale, act_type="prelu" if prelu else "relu")
