"""Plots: the layer ticks of the filter axis."""
import torch

from faig_helpers.filters import FilterIndex
from faig_helpers.viz.layers import layer_ticks


def test_layer_ticks_stay_readable_on_deep_nets():
    small = FilterIndex.from_state_dict({f"features.{2 * i}.weight": torch.zeros(2, 2, 3, 3) for i in range(6)})
    assert layer_ticks(small)[1] == [f"f{2 * i}" for i in range(6)]
    sd = {"conv_first.weight": torch.zeros(4, 3, 3, 3)}
    for b in range(16):
        sd[f"body.{b}.conv1.weight"] = sd[f"body.{b}.conv2.weight"] = torch.zeros(4, 4, 3, 3)
    sd.update({k: torch.zeros(4, 4, 3, 3) for k in ("upconv1.weight", "upconv2.weight", "conv_hr.weight")})
    sd["conv_last.weight"] = torch.zeros(3, 4, 3, 3)
    pos, labels = layer_ticks(FilterIndex.from_state_dict(sd))
    assert len(labels) <= 18 and labels[0] == "conv_first" and labels[-1] == "conv_last"
    assert pos == sorted(pos) and pos[-1] == 36
    plain = FilterIndex.from_state_dict({f"features.{i}.weight": torch.zeros(2, 2, 3, 3) for i in range(40)})
    pos, labels = layer_ticks(plain)
    assert len(labels) <= 18 and pos[0] == 0 and pos[-1] == 39
