import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from faig_helpers.archs import MSRResNet, SRCNNStyle
from faig_helpers.filters import FilterIndex, top_count

with torch.device("meta"):  # shapes only: full-size networks are slow to initialise on one core
    FULL = {"srresnet": FilterIndex.from_state_dict(MSRResNet(num_feat=64, num_block=16, upscale=2).state_dict()),
            "srcnn": FilterIndex.from_state_dict(SRCNNStyle(upscale=2).state_dict())}


def test_round_trip_over_every_index():
    for fi in FULL.values():
        idx = np.arange(len(fi))
        layer, o, i = fi.locate(idx)
        assert np.array_equal(fi.to_index(layer, o, i), idx)
        # names and (out, in) stay within each layer's shape
        outs = np.array([s[0] for s in fi.shapes])[layer]
        ins = np.array([s[1] for s in fi.shapes])[layer]
        assert (o < outs).all() and (i < ins).all()


def test_known_positions_of_full_srresnet():
    fi = FULL["srresnet"]
    assert fi.to_names([0, 191, 192, 151_935]) == [("conv_first.weight", 0, 0), ("conv_first.weight", 63, 2),
                                                   ("body.0.conv1.weight", 0, 0), ("conv_last.weight", 2, 63)]
    table = fi.layer_table()
    assert table[0] == dict(layer=0, name="conv_first.weight", filters=192, first_index=0, out=64, inp=3)
    assert table[-1]["first_index"] + table[-1]["filters"] == 151_936


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 156_223))
def test_index_matches_flattened_weight_order(k):
    # the global index is the row of the (n_filters, 9) stack of conv weights in state-dict order
    net = SRCNNStyle((4, 8), upscale=2)
    fi = FilterIndex.from_state_dict(net.state_dict())
    k = k % len(fi)
    flat = fi.flatten(net.state_dict())
    (name, o, i), = fi.to_names(k)
    assert torch.equal(flat[k], net.state_dict()[name][o, i].reshape(-1))


def test_masks_select_exactly_the_given_filters():
    net = MSRResNet(num_feat=8, num_block=2, upscale=2)
    fi = FilterIndex.from_state_dict(net.state_dict())
    pick = np.array([0, 5, 100, len(fi) - 1])
    masks = fi.masks(pick)
    assert sum(int(m.sum()) for m in masks.values()) == 4
    flat = torch.cat([m.reshape(-1) for m in masks.values()])
    assert flat.nonzero().flatten().tolist() == pick.tolist()


class Mixed(nn.Module):
    """5×5, depthwise (groups = channels), 1×1 and grouped convs, a PReLU, a norm and a Linear."""

    def __init__(self, c: int = 6) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, c, 5, padding=2)
        self.act = nn.PReLU(c)
        self.depthwise = nn.Conv2d(c, c, 3, padding=1, groups=c)
        self.norm = nn.GroupNorm(2, c)
        self.grouped = nn.Conv2d(c, 4, 7, padding=3, groups=2)
        self.point = nn.Conv2d(4, 12, 1)
        self.gate = nn.Linear(12, 12)

    def forward(self, x):
        h = self.norm(self.depthwise(self.act(self.head(x))))
        h = self.point(self.grouped(h))
        h = h * torch.sigmoid(self.gate(h.mean((2, 3))))[:, :, None, None]
        return nn.functional.pixel_shuffle(h, 2)


def test_filters_of_any_kernel_size_and_groups():
    net = Mixed()
    fi = FilterIndex.from_module(net)
    assert fi.names == ("head.weight", "depthwise.weight", "grouped.weight", "point.weight")
    assert fi.shapes == ((6, 3), (6, 1), (4, 3), (12, 4)) and fi.entries == (25, 9, 49, 1)
    assert len(fi) == sum(m.out_channels * m.in_channels // m.groups for m in net.modules()
                          if isinstance(m, nn.Conv2d))
    sd = dict(net.named_parameters())
    flat = fi.flatten(sd)
    assert flat.shape == (len(fi), 49)
    for k in range(len(fi)):
        (name, o, i), = fi.to_names(k)
        kernel = sd[name][o, i].reshape(-1)
        assert torch.equal(flat[k, :kernel.numel()], kernel) and not flat[k, kernel.numel():].any()
    torch.testing.assert_close(fi.per_filter(sd), flat.sum(1))
    pick = np.array([0, 17, 18, 25, len(fi) - 1])
    masks = fi.masks(pick)
    assert {n: tuple(m.shape) for n, m in masks.items()} == {
        "head.weight": (6, 3, 1, 1), "depthwise.weight": (6, 1, 1, 1), "grouped.weight": (4, 3, 1, 1),
        "point.weight": (12, 4, 1, 1)}
    assert torch.cat([m.reshape(-1) for m in masks.values()]).nonzero().flatten().tolist() == pick.tolist()
    layer, o, i = fi.locate(np.arange(len(fi)))
    assert np.array_equal(fi.to_index(layer, o, i), np.arange(len(fi)))
    assert np.array_equal(fi.to_index(["grouped.weight"], [3], [2]), [18 + 6 + 3 * 3 + 2])
    assert FilterIndex.from_state_dict(net.state_dict()) == fi  # the state-dict fallback agrees here


def test_linear_rows_are_units_only_when_asked():
    net = Mixed()
    fi = FilterIndex.from_module(net, units="conv+linear")
    assert fi.names[-1] == "gate.weight" and fi.shapes[-1] == (12, 1) and fi.kind(len(fi.names) - 1) == "linear"
    assert len(fi) == len(FilterIndex.from_module(net)) + 12
    sd = dict(net.named_parameters())
    torch.testing.assert_close(fi.per_filter(sd)[-12:], sd["gate.weight"].sum(1))
    assert fi.masks([len(fi) - 1])["gate.weight"].shape == (12, 1)


def test_modules_marked_not_filters_and_shared_weights_are_skipped():
    from faig_helpers.filters import NOT_FILTERS

    net = Mixed()
    setattr(net.point, NOT_FILTERS, True)
    net.point2 = net.grouped  # the same module twice: its weight once
    assert FilterIndex.from_module(net).names == ("head.weight", "depthwise.weight", "grouped.weight")


def test_top_count_as_the_original():
    assert top_count(151_936, 1) == 1519 and top_count(156_224, 10) == 15622 and top_count(50, 0) == 0
    assert top_count(50, 1) == 1 and top_count(0, 5) == 0  # any p > 0 selects at least one filter
    with pytest.raises(ValueError, match="percent must be in"):
        top_count(10, 101)
