import hashlib

import cv2
import numpy as np
import pytest
import torch

from faig_helpers.degradations import (CLEAN, CLEAN_FOLDER, GT_FOLDER, MANIFEST, blur, build_dataset_root, degradation,
                                       degradation_set, downsample, gaussian_kernel, load_dataset, read_manifest)
from faig_helpers.errors import DegradationError, ImageError
from faig_helpers.images import to_tensor

from helpers import write_hr_folder


def test_gaussian_kernel_matches_opencv():
    k = gaussian_kernel(21, 2.0).double().numpy()
    g = cv2.getGaussianKernel(21, 2.0)
    assert abs(k.sum() - 1) < 1e-6
    np.testing.assert_allclose(k, g @ g.T, atol=1e-7)


def test_blur_and_downsample_match_opencv_pipeline_of_the_original():
    rng = np.random.default_rng(0)
    img = rng.random((40, 36, 3)).astype(np.float32)
    k = gaussian_kernel(21, 2.0).numpy()
    ref = cv2.resize(cv2.filter2D(img, -1, k), (18, 20), interpolation=cv2.INTER_LINEAR)
    ours = downsample(blur(to_tensor(img)))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_noise_level_and_quantisation():
    hr = torch.full((1, 3, 128, 128), 0.5)
    x = degradation("noise").apply(hr, 2, torch.Generator().manual_seed(0))
    assert x.shape == (1, 3, 64, 64)
    assert abs(x.std().item() - 0.1) < 0.005
    assert torch.equal(x, torch.round(x * 255) / 255)
    with pytest.raises(DegradationError, match="unknown degradation 'gif'"):
        degradation("gif")


def _digest(root):
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(root.rglob("*.png")))).hexdigest()


@pytest.fixture
def hr_folder(tmp_path):
    return write_hr_folder(tmp_path)


def test_dataset_root_layout_and_byte_identical_rerun(hr_folder, tmp_path):
    r1 = build_dataset_root(hr_folder, tmp_path / "r1", seed=3)
    r2 = build_dataset_root(hr_folder, tmp_path / "r2", seed=3)
    assert sorted(p.name for p in r1.iterdir()) == sorted([GT_FOLDER, CLEAN_FOLDER, "Blur2_LRbicx2", "LRbicx2_noise0.1",
                                                          MANIFEST])
    assert _digest(r1) == _digest(r2)
    assert _digest(r1) != _digest(build_dataset_root(hr_folder, tmp_path / "r3", seed=4))
    data = load_dataset(r1)
    assert data.names == ["a.png", "gray.png", "rgba.png"]
    assert data.gt[0].shape == (1, 3, 30, 26) and data.inputs["blur"][0].shape == (1, 3, 15, 13)
    assert data.degradations == ["blur", "noise"] and read_manifest(r1)["degradations"] == ["blur", "noise"]
    assert data.gt[1].shape[1] == 3  # gray converted to 3 channels


def test_unreadable_files_and_mismatched_names_are_clear_errors(hr_folder, tmp_path):
    (hr_folder / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ImageError, match="broken.png: cannot be read as an image"):
        build_dataset_root(hr_folder, tmp_path / "r")
    (hr_folder / "broken.png").unlink()
    root = build_dataset_root(hr_folder, tmp_path / "r")
    (root / "LRbicx2_noise0.1" / "a.png").rename(root / "LRbicx2_noise0.1" / "renamed.png")
    with pytest.raises(ImageError, match="hold different file names"):
        load_dataset(root)
    with pytest.raises(ImageError, match="dataset root not found"):
        load_dataset(tmp_path / "missing")


def test_subset_crops_lr_and_gt_at_matching_positions(hr_folder, tmp_path):
    data = load_dataset(build_dataset_root(hr_folder, tmp_path / "r"))
    sub = data.subset(2, size=5)
    assert sub.names == data.names[:2]
    assert sub.inputs["blur"][0].shape[-2:] == (5, 5) and sub.gt[0].shape[-2:] == (10, 10)
    # the cropped GT is exactly the HR region the cropped LR came from
    top, left = (15 - 5) // 2, (13 - 5) // 2
    assert torch.equal(sub.gt[0], data.gt[0][..., 2 * top:2 * top + 10, 2 * left:2 * left + 10])
    assert torch.equal(sub.clean[0], data.clean[0][..., top:top + 5, left:left + 5])


def test_degradation_names_folders_and_words():
    d = degradation("jpeg30")
    assert (d.name, d.full_name, d.folder, d.input, d.function) == ("jpeg30", "jpeg30", "LRbicx2_jpeg30",
                                                                     "JPEG (q 30)", "deJPEG (q 30)")
    assert degradation("blur").folder == "Blur2_LRbicx2" and degradation("noise0.1").folder == "LRbicx2_noise0.1"
    assert degradation("blur2").name == "blur" and degradation("jpeg").folder == "LRbicx2_jpeg50"
    assert degradation("blur1+noise").name == "blur1+noise"
    assert degradation("blur1+noise").folder == "LRbicx2_blur1+noise0.1"
    assert degradation("blur").mask_folder == "maskdeblurfilter"
    assert degradation("jpeg").mask_folder == "maskjpeg50filter"
    assert degradation("blur+noise").input == "blurry+noisy" and degradation("clean") is CLEAN
    for bad, why in (("noise+blur", "pipeline order"), ("jpeg0", "quality"), ("blur0", "must be > 0"),
                     ("sharpen", "unknown degradation"), ("blur+blur1", "each operator once")):
        with pytest.raises(DegradationError, match=why):
            degradation(bad)
    assert degradation_set(["blur", "noise0.1", "jpeg50"]) == ["blur", "noise", "jpeg"]
    with pytest.raises(DegradationError, match="at least two distinct"):
        degradation_set(["blur", "blur2"])


def test_jpeg_root_is_opencv_q50_of_the_clean_images_and_leaves_the_rest_unchanged(hr_folder, tmp_path):
    paper = build_dataset_root(hr_folder, tmp_path / "paper", seed=2)
    three = build_dataset_root(hr_folder, tmp_path / "three", seed=2, degradations=["blur", "noise", "jpeg"])
    for folder in (GT_FOLDER, CLEAN_FOLDER, "Blur2_LRbicx2", "LRbicx2_noise0.1"):
        for p in sorted((paper / folder).glob("*.png")):
            assert p.read_bytes() == (three / folder / p.name).read_bytes(), p
    for p in sorted((three / CLEAN_FOLDER).glob("*.png")):
        clean = cv2.imread(str(p), cv2.IMREAD_COLOR)
        want = cv2.imdecode(cv2.imencode(".jpg", clean, [int(cv2.IMWRITE_JPEG_QUALITY), 50])[1], cv2.IMREAD_COLOR)
        assert np.array_equal(cv2.imread(str(three / "LRbicx2_jpeg50" / p.name), cv2.IMREAD_COLOR), want), p.name
    assert read_manifest(three)["degradations"] == ["blur", "noise", "jpeg"]
    data = load_dataset(three)
    assert data.degradations == ["blur", "noise", "jpeg"] and len(data.inputs["jpeg"]) == 3
    assert load_dataset(three, ["noise", "jpeg"]).degradations == ["noise", "jpeg"]
    assert _digest(three) == _digest(build_dataset_root(hr_folder, tmp_path / "again", seed=2,
                                                       degradations=["blur", "noise", "jpeg"]))
    with pytest.raises(ImageError, match="missing folder 'LRbicx2_jpeg30'"):
        load_dataset(three, ["blur", "jpeg30"])


def test_compositions_apply_in_pipeline_order():
    hr = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    both = degradation("blur+noise+jpeg").apply(hr, 2, torch.Generator().manual_seed(1))
    from faig_helpers.degradations import add_noise, jpeg, quantize
    want = jpeg(quantize(add_noise(downsample(blur(hr)), 0.1, torch.Generator().manual_seed(1))), 50)
    assert torch.equal(both, want)
