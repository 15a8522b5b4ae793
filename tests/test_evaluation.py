import torch

from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import degradation
from faig_helpers.evaluation import quality_table, restore_all
from faig_helpers.metrics import psnr
from helpers import tiny_data, tiny_pair


def test_restoring_in_one_batch_or_one_by_one_gives_the_same_outputs(tmp_path):
    _, target = load_pair(*tiny_pair(tmp_path))
    xs = tiny_data(3).inputs["blur"]
    batched = restore_all(target, xs)
    mixed = restore_all(target, xs[:2] + [xs[2][..., :6, :6]])  # sizes differ: one at a time
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(batched[:2], mixed[:2]))
    assert [tuple(o.shape) for o in batched] == [(1, 3, 16, 16)] * 3 and mixed[2].shape[-1] == 12


def test_the_quality_table_is_the_mean_psnr_with_the_scale_border_cropped(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(2)
    table = quality_table({"θ̄": baseline, "θ": target}, data)
    inputs = [degradation(d).input for d in data.degradations]
    assert list(table.index) == ["θ̄", "θ"] and list(table.columns) == ["clean", *inputs]
    assert table.attrs["metric"] == f"PSNR (dB), RGB, border {data.scale}"
    by_hand = sum(psnr(o, g, data.scale) for o, g in zip(restore_all(target, data["noise"]), data.gt)) / 2
    assert abs(table.loc["θ", degradation("noise").input] - by_hand) < 1e-9
