"""×2, ×3 and ×4 through the dataset builder, the CLI, attribution, substitution, modulation and PSNR."""
import numpy as np
import pytest
import torch

from faig_helpers.__main__ import main
from faig_helpers.archs import MSRResNet, SRCNNStyle
from faig_helpers.methods import attribute
from faig_helpers.checkpoint import load_pair, save_checkpoint
from faig_helpers.comparison import compare
from faig_helpers.degradations import load_dataset
from faig_helpers.evaluation import quality_table
from faig_helpers.images import write_image
from faig_helpers.panel import ModulationPanel
from faig_helpers.rankings import load_scores


@pytest.mark.parametrize("scale,arch", [(2, "srcnn"), (3, "srresnet"), (3, "srcnn"), (4, "srresnet")])
def test_every_step_at_any_scale(tmp_path, scale, arch):
    rng = np.random.default_rng(scale)
    for i in range(2):
        write_image(tmp_path / "hr" / f"{i}.png", rng.random((12 * scale + 1, 12 * scale + 2, 3)))
    main(["degrade", str(tmp_path / "hr"), str(tmp_path / "root"), "--scale", str(scale)])
    data = load_dataset(tmp_path / "root")
    assert data.scale == scale and data.gt[0].shape[-2:] == (12 * scale, 12 * scale + (2 if scale == 2 else 0))
    assert data.inputs["blur"][0].shape[-2] == 12 and data.gt[0].shape[-1] == scale * data.inputs["blur"][0].shape[-1]
    torch.manual_seed(0)
    make = (lambda: MSRResNet(num_feat=8, num_block=1, upscale=scale)) if arch == "srresnet" else \
        (lambda: SRCNNStyle((8, 8), upscale=scale))
    nets = [make(), make()]
    for i, n in enumerate(nets):
        save_checkpoint(tmp_path / f"{i}.pth", n.state_dict())
    baseline, target = load_pair(tmp_path / "0.pth", tmp_path / "1.pth")
    main(["rank", "--baseline", str(tmp_path / "0.pth"), "--target", str(tmp_path / "1.pth"), "--dataset-root",
          str(tmp_path / "root"), "--steps", "2", "--quadrature", "riemann_middle", "--out", str(tmp_path / "faig")])
    scores = load_scores(tmp_path / "faig", "faig")
    api = attribute("faig", baseline, target, data, n_steps=2, quadrature="riemann_middle", progress=False)
    assert np.array_equal(scores.ranking("blur"), api.ranking("blur"))
    table = compare(baseline, target, {"faig": api}, data, (0, 10), progress=False)
    assert (table[table.proportion == 0].output_difference == 0).all()
    assert set(quality_table({"t": target}, data).columns) == {"clean", "blurry", "noisy"}
    r = ModulationPanel(baseline, target, api, data, crop=8).update(0.0, "noise", 10, 1)
    assert r["output"].shape == r["target"].shape == r["input"].shape == (8 * scale, 8 * scale, 3)
