"""BasicSR's ``RRDBNet`` (ESRGAN, Real-ESRGAN): ``conv_first``, ``body.N.rdb{1,2,3}.conv{1..5}``, ``conv_body``,
``conv_up1``, ``conv_up2``, ``conv_hr``, ``conv_last``. ×4; ×2 and ×1 by pixel-unshuffling the input first
(by 2 or 4), as BasicSR. Any ``num_feat``, ``num_block``, ``num_grow_ch`` (inferred from the weight shapes).

Older key layouts are converted to BasicSR's by :meth:`RRDBNet.convert_state_dict`: the original ESRGAN
repository's ``model.0 … model.10`` (``model.1.sub.N.RDBk.convj.0``) and its later ``RRDB_trunk`` /
``trunk_conv`` / ``upconv1`` / ``HRconv`` names."""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ArchitectureError
from .arch_util import block_count, default_init_weights, only_keys
from .registry import register_arch

__all__ = ["ResidualDenseBlock", "RRDB", "RRDBNet"]


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3×3 convs; output x + 0.2 · conv5(...)."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        default_init_weights(self, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            feats.append(F.leaky_relu(conv(torch.cat(feats, 1)), 0.2))
        return self.conv5(torch.cat(feats, 1)) * 0.2 + x


class RRDB(nn.Module):
    """Residual in residual dense block: three dense blocks, output x + 0.2 · rdb3(rdb2(rdb1(x)))."""

    def __init__(self, num_feat: int, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


_UNSHUFFLE = {4: 1, 2: 2, 1: 4}  # scale → pixel-unshuffle factor of the input
_TAIL = {3: "conv_up1", 6: "conv_up2", 8: "conv_hr", 10: "conv_last"}  # original ESRGAN ×4 'model.N'
_ESRGAN_NAMES = {"trunk_conv": "conv_body", "upconv1": "conv_up1", "upconv2": "conv_up2", "HRconv": "conv_hr"}


@register_arch(order=30)
class RRDBNet(nn.Module):
    """ESRGAN's generator with BasicSR's parameter names; ``scale`` 4, 2 or 1."""

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, scale: int = 4, num_feat: int = 64,
                 num_block: int = 23, num_grow_ch: int = 32) -> None:
        super().__init__()
        if scale not in _UNSHUFFLE:
            raise ArchitectureError(f"RRDBNet supports scale 4, 2 or 1 (BasicSR), got {scale}")
        self.scale = scale
        self.conv_first = nn.Conv2d(num_in_ch * _UNSHUFFLE[scale] ** 2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = _UNSHUFFLE[self.scale]
        feat = self.conv_first(F.pixel_unshuffle(x, r) if r > 1 else x)
        feat = feat + self.conv_body(self.body(feat))
        feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))

    @classmethod
    def convert_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
        """``sd`` with BasicSR keys (converted from the older ESRGAN layouts), or None when it is not an
        RRDBNet state dict this class can hold (e.g. ESRGAN+ or an old ×2/×8 with one or three upconvs)."""
        if "body.0.rdb1.conv1.weight" in sd:
            return dict(sd)
        out: dict[str, torch.Tensor] = {}
        if "model.1.sub.0.RDB1.conv1.0.weight" in sd:
            nb = block_count(sd, r"model\.1\.sub\.(\d+)\.RDB1\.conv1\.0\.weight$")
            for k, v in sd.items():
                if m := re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)", k):
                    out["body.{}.rdb{}.conv{}.{}".format(*m.groups())] = v
                elif m := re.fullmatch(rf"model\.1\.sub\.{nb}\.(weight|bias)", k):
                    out[f"conv_body.{m.group(1)}"] = v
                elif m := re.fullmatch(r"model\.(\d+)\.(weight|bias)", k):
                    i = int(m.group(1))
                    if i != 0 and i not in _TAIL:
                        return None
                    out[f"{'conv_first' if i == 0 else _TAIL[i]}.{m.group(2)}"] = v
                else:
                    return None
            if "model.12.weight" in sd or "model.10.weight" not in sd:
                return None
        elif "RRDB_trunk.0.RDB1.conv1.weight" in sd:
            for k, v in sd.items():
                if m := re.fullmatch(r"RRDB_trunk\.(\d+)\.RDB(\d)\.conv(\d)\.(weight|bias)", k):
                    out["body.{}.rdb{}.conv{}.{}".format(*m.groups())] = v
                else:
                    head, _, kind = k.rpartition(".")
                    out[f"{_ESRGAN_NAMES.get(head, head)}.{kind}"] = v
        else:
            return None
        return out

    @classmethod
    def kwargs_from_state_dict(cls, sd: Mapping[str, torch.Tensor]) -> dict | None:
        sd = cls.convert_state_dict(sd)
        need = {"conv_first.weight", "conv_body.weight", "conv_up1.weight", "conv_up2.weight", "conv_hr.weight",
                "conv_last.weight"}
        if sd is None or not need <= set(sd) or \
                not only_keys(sd, r"conv_first|body\.\d+\.rdb[123]\.conv[1-5]|conv_body|conv_up[12]|conv_hr|conv_last"):
            return None
        c_in, c_out = sd["conv_first.weight"].shape[1], sd["conv_last.weight"].shape[0]
        scale = {c_out * 4: 2, c_out * 16: 1}.get(c_in, 4)
        return dict(num_in_ch=c_in // _UNSHUFFLE[scale] ** 2, num_out_ch=c_out, scale=scale,
                    num_feat=sd["conv_first.weight"].shape[0],
                    num_block=block_count(sd, r"body\.(\d+)\.rdb1\.conv1\.weight$"),
                    num_grow_ch=sd["body.0.rdb1.conv1.weight"].shape[0])
