import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from faig_helpers.archs import MSRResNet, SRCNNStyle
from faig_helpers.filters import FilterIndex

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
