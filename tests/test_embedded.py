"""The shipped embedded default: data kept apart, models meet the PSNR floors."""
import cv2
import numpy as np
import pytest

from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import build_dataset_root
from faig_helpers.embedded import DATASET_ROOT, EVAL_HR_DIR, PAIRS, TRAIN_DIR, pair_paths
from faig_helpers.evaluation import quality_table
from faig_helpers.images import list_images, read_image


def test_eval_images_are_enough_and_large_enough(embedded_data):
    assert len(embedded_data) >= 6
    assert all(min(g.shape[-2:]) >= 128 for g in embedded_data.gt)


def test_training_and_evaluation_images_are_disjoint():
    train = [read_image(p) for p in list_images(TRAIN_DIR)]
    assert len(train) >= 8
    sources = {p.stem.split("_", 1)[1] for p in list_images(EVAL_HR_DIR)}
    assert not sources & {p.stem for p in list_images(TRAIN_DIR)}
    # no evaluation crop is a sub-image of a training image: the best match of each crop at any position
    # of any training image (mean squared difference over the crop) stays far from zero
    for p in list_images(EVAL_HR_DIR):
        crop = read_image(p)
        best = min(cv2.matchTemplate(t, crop, cv2.TM_SQDIFF).min() / crop.size for t in train
                   if t.shape[0] >= crop.shape[0] and t.shape[1] >= crop.shape[1])
        assert best > 1e-3, f"{p.name} matches a training image (mean squared difference {best:.1e})"


def test_the_sub_image_check_can_fail():
    t = read_image(list_images(TRAIN_DIR)[0])
    crop = np.ascontiguousarray(t[40:168, 30:158])
    assert cv2.matchTemplate(t, crop, cv2.TM_SQDIFF).min() / crop.size < 1e-6


def test_committed_dataset_root_is_reproducible(tmp_path):
    rebuilt = build_dataset_root(EVAL_HR_DIR, tmp_path / "root")
    for p in sorted(DATASET_ROOT.rglob("*.png")):
        assert p.read_bytes() == (rebuilt / p.relative_to(DATASET_ROOT)).read_bytes(), p


@pytest.mark.parametrize("net", list(PAIRS))
def test_shipped_pairs_meet_psnr_floors(net, embedded_data):
    baseline, target = load_pair(*pair_paths(net))
    t = quality_table({"baseline": baseline, "target": target}, embedded_data)
    gain = t.loc["target"] - t.loc["baseline"]
    assert gain["blurry"] >= 1.5, t
    assert gain["noisy"] >= 3.0, t
    assert t.loc["baseline", "clean"] > 26, t  # the baseline is a real super-resolver
