"""Local attribution maps: the published definition (checked here against an independent NumPy/OpenCV
evaluation of it; `scripts/check_lam_published.py` runs LAM_Demo's own code), any network, bad input."""
import cv2
import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.archs import RRDBNet
from faig_helpers.embedded import DATASET_ROOT, pair_paths
from faig_helpers.errors import ConfigError
from faig_helpers.lam import blur_path, box_detector, diffusion_index, gaussian_kernel, gini


def _numpy_lam(model, lr: np.ndarray, box, sigma=1.2, fold=50, size=9) -> np.ndarray:
    """The definition evaluated point by point: OpenCV blurs (HWC, float64), one forward/backward per point."""
    hwc = np.moveaxis(lr, 0, 2).astype(np.float64)
    sig = np.linspace(sigma, 0, fold + 1)
    k = [gaussian_kernel(size, s) for s in sig]
    total = np.zeros_like(lr, dtype=np.float64)
    for i in range(fold):
        img = np.moveaxis(cv2.filter2D(hwc, -1, k[i + 1]), 2, 0)
        slope = np.moveaxis(cv2.filter2D(hwc, -1, (k[i + 1] - k[i]) * fold), 2, 0)
        x = torch.from_numpy(img[None].astype(np.float32)).requires_grad_(True)
        box_detector(model(x), box).backward()
        total += x.grad[0].double().numpy() * slope
    m = np.abs((total / fold).sum(0))
    return m / m.max()


@pytest.mark.parametrize("which", ["msrresnet", "rrdbnet"])
def test_lam_equals_the_definition_point_by_point(which):
    torch.manual_seed(0)
    model = fl.load_model(pair_paths("srresnet")[1]) if which == "msrresnet" else \
        RRDBNet(3, 3, scale=4, num_feat=16, num_block=1, num_grow_ch=8).eval()
    lr = fl.load_dataset(DATASET_ROOT, clean=False).inputs["noise"][1][..., :24, :24].contiguous()
    box = (20, 12, 8)
    ours = fl.local_attribution_map(model, lr, box, fold=20, batch=7)
    ref = _numpy_lam(model, lr[0].numpy(), box, fold=20)
    assert ours.map.shape == (24, 24) and ours.map.max() == pytest.approx(1.0) and ours.map.min() >= 0
    assert np.abs(ours.map - ref).max() <= 1e-4
    assert round(ours.di, 3) == round(diffusion_index(ref), 3)


def test_blur_path_ends_at_the_input_and_gini_is_the_standard_one():
    lr = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    images, slopes = blur_path(lr, 1.2, 10, 9)
    assert images.shape == slopes.shape == (10, 3, 12, 12)
    assert torch.allclose(images[-1].float(), lr[0], atol=1e-6)  # σ = 0: the input itself
    assert torch.allclose(slopes.sum(0) / 10, lr[0].double()  # Σ slopes / fold = the input minus its σ₀ blur
                          - torch.from_numpy(cv2.filter2D(np.moveaxis(lr[0].numpy(), 0, 2).astype(np.float64), -1,
                                                          gaussian_kernel(9, 1.2))).permute(2, 0, 1), atol=1e-6)
    assert gini(np.ones(100)) == pytest.approx(0.0, abs=1e-6)
    assert gini(np.r_[np.zeros(99), 1.0]) == pytest.approx(0.99, abs=1e-4)
    assert diffusion_index(np.ones((4, 4))) == pytest.approx(100.0, abs=1e-4)


def test_lam_bad_input_is_one_clear_line():
    model = fl.load_model(pair_paths("srresnet")[1])
    lr = torch.rand(1, 3, 16, 16)
    with pytest.raises(ConfigError, match=r"box \(x 30, y 0, size 8\) is not inside the 32×32 output"):
        fl.local_attribution_map(model, lr, (30, 0, 8))
    with pytest.raises(ConfigError, match="box size must be at least 1"):
        fl.local_attribution_map(model, lr, (0, 0, 0))
    with pytest.raises(ConfigError, match=r"box must be \(x, y, size\)"):
        fl.local_attribution_map(model, lr, (0, 0))
    cugan = fl.load_model(fl.realcugan_pair()["target"])
    with pytest.raises(ConfigError, match="needs at least 32"):
        fl.local_attribution_map(cugan, torch.rand(1, 3, 24, 24), (0, 0, 8))


def test_pair_maps_on_a_published_network():
    """Target, substituted and baseline maps of the Real-CUGAN pair (transposed convs, spandrel) on one input."""
    b, t = fl.load_pair(*(fl.realcugan_pair()[k] for k in ("baseline", "target")))
    lr = fl.load_dataset(fl.realcugan_pair()["dataset_root"], clean=False).inputs["noise"][0][..., :32, :32]
    maps = fl.pair_maps(b, t, np.arange(0, 178_752, 100), lr.contiguous(), (24, 24, 12), fold=6, batch=6)
    assert set(maps) == {"target", "substituted", "baseline"}
    for r in maps.values():
        assert r.map.shape == (32, 32) and 0 < r.di < 100 and r.output.shape == (1, 3, 64, 64)
    assert not np.allclose(maps["target"].map, maps["substituted"].map)
