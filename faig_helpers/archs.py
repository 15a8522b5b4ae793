"""Network definitions with BasicSR's parameter names.

* :class:`MSRResNet` — BasicSR's modified SRResNet (``conv_first``, ``body.N.conv1/conv2``,
  ``upconv1``/``upconv2``, ``conv_hr``, ``conv_last``), output = net(x) + bilinear(x).
* :class:`SRCNNStyle` — the FAIG paper's plain VGG-like net (``features.N``), no skip.

Both are configurable in width, depth and scale (×2, ×3, ×4). :func:`build_from_state_dict`
infers the architecture from a state dict's keys and shapes alone.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from .errors import ArchitectureError

__all__ = ["ResidualBlockNoBN", "MSRResNet", "SRCNNStyle", "build", "build_from_state_dict", "ArchitectureError", "describe"]



class ResidualBlockNoBN(nn.Module):
    """x + conv2(relu(conv1(x))), as BasicSR's block with res_scale = 1."""

    def __init__(self, num_feat: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNet(nn.Module):
    """Modified SRResNet (BasicSR ``MSRResNet``); full size: 64 features, 16 blocks."""

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
        for m in self.modules():  # BasicSR's default_init_weights(scale=0.1)
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
                m.weight.data.mul_(0.1)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(self.lrelu(self.conv_first(x)))
        out = self.lrelu(self.pixel_shuffle(self.upconv1(out)))
        if self.upscale == 4:
            out = self.lrelu(self.pixel_shuffle(self.upconv2(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        base = F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)
        return out + base


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


def _conv_shapes(sd: Mapping[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in sd.items() if k.endswith(".weight")}


def describe(sd: Mapping[str, torch.Tensor]) -> dict:
    """Infer ``{'arch', 'upscale', ...constructor kwargs}`` from a state dict's keys and shapes."""
    shapes = _conv_shapes(sd)
    if not shapes:
        raise ArchitectureError("no '*.weight' tensors found: this is not a network state dict")
    bad = [k for k, s in shapes.items() if len(s) != 4 or s[2:] != (3, 3)]
    if bad:
        raise ArchitectureError(f"expected 3x3 conv weights of shape (out, in, 3, 3); "
                                f"'{bad[0]}' has shape {shapes[bad[0]]}")
    if "conv_first.weight" in shapes:
        num_feat = shapes["conv_first.weight"][0]
        blocks = {int(m.group(1)) for k in shapes if (m := re.match(r"body\.(\d+)\.conv1\.weight$", k))}
        if "upconv1.weight" not in shapes:
            raise ArchitectureError("MSRResNet-like keys but no 'upconv1.weight'")
        up1 = shapes["upconv1.weight"][0] // num_feat
        upscale = 4 if "upconv2.weight" in shapes else {4: 2, 9: 3}.get(up1)
        if upscale is None:
            raise ArchitectureError(f"'upconv1.weight' has {shapes['upconv1.weight'][0]} output channels; "
                                    f"expected 4x or 9x num_feat={num_feat}")
        return dict(arch="MSRResNet", num_in_ch=shapes["conv_first.weight"][1],
                    num_out_ch=shapes["conv_last.weight"][0], num_feat=num_feat,
                    num_block=len(blocks), upscale=upscale)
    feats = sorted((int(m.group(1)), s) for k, s in shapes.items()
                   if (m := re.match(r"features\.(\d+)\.weight$", k)))
    if feats and len(feats) == len(shapes):
        idx = [i for i, _ in feats]
        outs = [s[0] for _, s in feats]
        # upsampling convs are followed by PixelShuffle + LeakyReLU (index gap 3, not 2)
        ups = [j for j in range(len(idx) - 1) if idx[j + 1] - idx[j] == 3]
        if not ups:
            raise ArchitectureError("SRCNN-style keys 'features.N' but no upsampling conv found")
        ratios = [outs[j] // shapes[f"features.{idx[j]}.weight"][1] for j in ups]
        upscale = 3 if ratios == [9] else 2 ** len(ups) if all(r == 4 for r in ratios) else None
        if upscale is None:
            raise ArchitectureError(f"SRCNN-style upsampling convs expand channels by {ratios}; expected 4 or 9")
        return dict(arch="SRCNNStyle", channels=tuple(outs[: ups[0]]), upscale=upscale,
                    num_in_ch=shapes[f"features.{idx[0]}.weight"][1], num_out_ch=outs[-1])
    raise ArchitectureError("unknown architecture: expected MSRResNet keys ('conv_first.weight', "
                            "'body.N.conv1.weight', ...) or SRCNN-style keys ('features.N.weight'); "
                            f"first keys are {list(sd)[:3]}")


def build(spec: Mapping) -> nn.Module:
    """Instantiate the network described by :func:`describe`."""
    kw = dict(spec)
    arch = kw.pop("arch")
    return {"MSRResNet": MSRResNet, "SRCNNStyle": SRCNNStyle}[arch](**kw)


def build_from_state_dict(sd: Mapping[str, torch.Tensor]) -> nn.Module:
    """Build the network a state dict describes and load the weights into it (eval mode)."""
    net = build(describe(sd))
    missing, unexpected = net.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ArchitectureError(f"state dict does not fit the inferred {type(net).__name__}: "
                                f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    return net.eval()
