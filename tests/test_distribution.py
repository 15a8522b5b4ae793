"""Where discovered filters live: positions, per-layer shares and the depth test."""
import numpy as np
import pytest
import torch

from faig_helpers.distribution import depth_test, layer_shares, positions
from faig_helpers.filters import FilterIndex


def test_positions_and_shares():
    sd = {"a.weight": torch.zeros(2, 3, 3, 3), "b.weight": torch.zeros(4, 2, 3, 3), "c.weight": torch.zeros(1, 4, 3, 3)}
    fi = FilterIndex.from_state_dict(sd)
    pos = positions(fi, np.array([0, 5, 6, 13, 17]))
    assert pos.layer.tolist() == [0, 0, 1, 1, 2]
    assert pos.depth.tolist() == [0, 0, 0.5, 0.5, 1.0]
    assert pos.position.tolist() == [0, 5 / 6, 0, 7 / 8, 3 / 4]
    sh = layer_shares(fi, {"x": np.array([0, 6, 7, 17])})
    assert sh[sh.set == "x"].share.tolist() == [25.0, 50.0, 25.0]
    assert sh[sh.set == "all filters"].share.sum() == pytest.approx(100)


def test_depth_test_detects_a_deep_set():
    sd = {f"l{i}.weight": torch.zeros(8, 8, 3, 3) for i in range(6)}
    fi = FilterIndex.from_state_dict(sd)
    deep = np.arange(5 * 64, 5 * 64 + 20)  # all in the last layer
    shallow = np.arange(0, 20)
    t = depth_test(fi, {"deep": deep, "shallow": shallow}, n_permutations=500)
    assert t.depth == {"deep": 1.0, "shallow": 0.0} and t.spread["deep"] == 0.0
    assert t.p_deeper_than_random["deep"] < 0.01 and t.p_deeper["deep", "shallow"] < 0.01
    assert t.p_deeper_than_random["shallow"] > 0.9 and t.p_deeper["shallow", "deep"] > 0.9
    assert list(t.table().index) == ["deep", "shallow"]
