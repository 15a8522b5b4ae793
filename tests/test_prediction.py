"""Degradation prediction: overlap score, ROC/AUC, classical estimators, the test-set builder and
per-input attributions."""
import numpy as np
import pandas as pd
import pytest
import torch

from faig_helpers.engines import LocalEngine

from faig_helpers import prediction as pred
from faig_helpers.methods import FAIG
from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import blur, downsample, quantize
from faig_helpers.embedded import EVAL_SOURCES, TRAIN_SOURCES
from faig_helpers.filters import top_count

from helpers import tiny_data, tiny_pair


# ---------------------------------------------------------------- overlap score

def test_overlap_score_on_hand_made_sets():
    assert pred.overlap_score([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5
    assert pred.overlap_score([1, 2, 3, 4], [9, 8]) == 0.0
    assert pred.overlap_score(np.arange(10), [2, 7, 9]) == 1.0
    assert pred.overlap_score([1], [1, 2, 3]) == pytest.approx(1 / 3)  # divides by |F_x|, not |F_D|
    with pytest.raises(ValueError, match="empty"):
        pred.overlap_score([1, 2], [])


def test_overlap_scores_use_each_rows_top_k():
    n = 200  # k = ⌊200 · 2 / 100⌋ = 4
    a = np.zeros((3, n))
    a[0, [10, 11, 12, 13]] = [4, 3, 2, 1]  # F_x = {10..13}
    a[1, [10, 50, 60, 70]] = 1.0  # F_x = {10, 50, 60, 70}
    a[2, [10, 11, 12, 13, 14]] = [1, 1, 1, 1, 2]  # top 4: 14 then the tie 10, 11, 12 (index order)
    f_d = np.array([10, 11, 12, 13])
    assert top_count(n, 2.0) == 4
    assert pred.top_sets(a, 2.0).tolist() == [[10, 11, 12, 13], [10, 50, 60, 70], [14, 10, 11, 12]]
    np.testing.assert_allclose(pred.overlap_scores(f_d, a, 2.0), [1.0, 0.25, 0.75])
    np.testing.assert_allclose(pred.overlap_scores([10, 14], a, 2.0), [0.25, 0.25, 0.5])  # / |F_x| = k
    for row, s in zip(pred.top_sets(a, 2.0), pred.overlap_scores(f_d, a, 2.0)):
        assert pred.overlap_score(f_d, row) == s
    with pytest.raises(ValueError, match="empty set"):
        pred.top_sets(a, 0)
    assert pred.top_sets(a, 0.1).shape == (3, 1)  # any p > 0 selects at least one filter


# ---------------------------------------------------------------- decisions, ROC, AUC

def test_auc_on_known_inputs():
    assert pred.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75  # the classic textbook example
    assert pred.auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert pred.auc([1, 2, 3, 4], [1, 1, 0, 0]) == 0.0
    assert pred.auc([0.5] * 6, [0, 1] * 3) == 0.5  # ties count one half
    assert pred.auc([0, 1, 1, 2], [0, 0, 1, 1]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    with pytest.raises(ValueError, match="positives and negatives"):
        pred.auc([1, 2], [1, 1])
    with pytest.raises(ValueError, match="3 scores but 2 labels"):
        pred.auc([1, 2, 3], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        pred.auc([np.nan, 2], [0, 1])


def test_roc_area_equals_the_rank_statistic():
    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=60), 1)  # many ties
    y = rng.random(60) < 0.4
    fpr, tpr = pred.roc_curve(s, y)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2) == pytest.approx(pred.auc(s, y))  # trapezoid area


def test_accuracy_confusion_and_the_strict_threshold():
    s, y = np.array([0.2, 0.5, 0.6, 0.9]), np.array([0, 0, 1, 1], bool)
    assert pred.predict(s, 0.5).tolist() == [False, False, True, True]  # OS > T, not ≥
    assert pred.accuracy(s, y, 0.5) == 1.0 and pred.accuracy(s, y, 0.1) == 0.5
    assert pred.confusion(s, y, 0.3) == dict(tp=2, fn=0, fp=1, tn=1)
    np.testing.assert_allclose(pred.accuracy_curve(s, y, [0.0, 0.5, 1.0]), [0.5, 1.0, 0.5])


def test_calibrated_threshold_separates_what_can_be_separated():
    s, y = np.array([0.1, 0.2, 0.3, 0.7, 0.8]), np.array([0, 0, 0, 1, 1], bool)
    t = pred.calibrate_threshold(s, y)
    assert 0.3 < t < 0.7 and pred.accuracy(s, y, t) == 1.0
    s2, y2 = np.array([0.1, 0.6, 0.4, 0.9]), np.array([0, 0, 1, 1], bool)  # not separable: best is 3 of 4
    assert pred.accuracy(s2, y2, pred.calibrate_threshold(s2, y2)) == 0.75


def test_decision_rows_pick_positives_and_negatives():
    df = pd.DataFrame(dict(blur_sigma=[0, 1, 2, 0, 0, 2], noise_sigma=[0, 0, 0, 0.05, 0.1, 0.1]))
    mask, y = pred.decision_rows(df, "blur", [2.0], [0.1])
    assert mask.tolist() == [True, False, True, False, True, False] and y.tolist() == [False, True, False]
    mask, y = pred.decision_rows(df, "noise")  # every strength; the mixed input is left out
    assert mask.tolist() == [True, True, True, True, True, False] and y.tolist() == [False, False, False, True, True]
    with pytest.raises(ValueError, match="unknown degradation"):
        pred.decision_rows(df, "jpeg")


# ---------------------------------------------------------------- classical estimators

def _texture(size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return blur(torch.rand(1, 3, size, size, generator=g), 1.0)  # a texture with detail at every scale


def test_noise_estimate_recovers_a_known_sigma():
    g = torch.Generator().manual_seed(1)
    flat = torch.full((1, 3, 128, 128), 0.5)
    for sigma in (0.02, 0.05, 0.1):
        est = pred.noise_sigma_mad(flat + sigma * torch.randn(flat.shape, generator=g))
        assert est == pytest.approx(sigma, rel=0.1)
    assert pred.noise_sigma_mad(_texture()) < 0.02  # smooth structure stays out of the HH band
    hwc = np.full((32, 32, 3), 0.5) + np.random.default_rng(0).normal(0, 0.1, (32, 32, 3))
    assert pred.noise_sigma_mad(hwc) == pytest.approx(0.1, rel=0.2)  # arrays too


def test_laplacian_variance_falls_with_blur_and_rises_with_noise():
    x = _texture()
    v = [pred.laplacian_variance(blur(x, s) if s else x) for s in (0, 1, 2, 3)]
    assert v[0] > v[1] > v[2] > v[3] > 0
    g = torch.Generator().manual_seed(0)
    assert pred.laplacian_variance(x + 0.1 * torch.randn(x.shape, generator=g)) > 10 * v[0]
    with pytest.raises(ValueError, match="too small"):
        pred.laplacian_variance(torch.zeros(1, 3, 2, 2))


# ---------------------------------------------------------------- the test set

def _photos():
    rng = np.random.default_rng(0)
    return {"a.png": rng.random((120, 100, 3)).astype(np.float32), "b.png": rng.random((90, 90, 3)).astype(np.float32)}


def test_pick_crops_avoid_boxes_and_each_other():
    photos = _photos()
    avoid = {"a.png": [(0, 0, 60, 60)]}
    crops = pred.pick_crops(photos, 30, 2, seed=3, avoid=avoid)
    assert crops.keys() == pred.pick_crops(photos, 30, 2, seed=3, avoid=avoid).keys()  # seeded
    boxes = {}
    for name, c in crops.items():
        stem, top, left = name.rsplit("_", 2)
        boxes.setdefault(stem + ".png", []).append((int(top), int(left), 30, 30))
        np.testing.assert_array_equal(c, photos[stem + ".png"][int(top):int(top) + 30, int(left):int(left) + 30])
    assert [len(b) for b in boxes.values()] == [2, 2]
    assert not pred._overlaps(*boxes["a.png"]) and not pred._overlaps(*boxes["b.png"])
    assert not any(pred._overlaps(b, avoid["a.png"][0]) for b in boxes["a.png"])
    with pytest.raises(ValueError, match="found only"):
        pred.pick_crops(photos, 60, 4)
    with pytest.raises(ValueError, match="smaller than"):
        pred.pick_crops(photos, 100, 1)


@pytest.mark.parametrize("scale", [2, 3])
def test_test_set_is_deterministic_and_labelled(scale):
    lr = 8
    crops = {k: v for k, v in pred.pick_crops(_photos(), pred.hr_window(scale, lr), 1, seed=0).items()}
    args = dict(scale=scale, lr_size=lr, blur_sigmas=[1.0, 2.0], noise_sigmas=[0.1], mixed=[(2.0, 0.1)], seed=5)
    a = pred.build_test_set(crops, **args)
    b = pred.build_test_set(dict(reversed(list(crops.items()))), **args)  # order does not matter
    assert len(a) == 2 * (1 + 2 + 1 + 1)
    by_name = {t.name: t for t in b}
    for t in a:
        assert torch.equal(t.lr, by_name[t.name].lr) and torch.equal(t.hr, by_name[t.name].hr)
        assert t.lr.shape[-2:] == (lr, lr) and t.hr.shape[-2:] == (scale * lr, scale * lr)
        assert torch.equal(t.lr, quantize(t.lr)) and t.lr.min() >= 0 and t.lr.max() <= 1
    kinds = [t.degradations for t in a[:5]]
    assert kinds == ["clean", "blur", "blur", "noise", "blur+noise"]
    assert [(t.has("blur"), t.has("noise")) for t in a[:5]] == [(False, False), (True, False), (True, False),
                                                               (False, True), (True, True)]
    clean, noisy = a[0], a[3]
    m = (pred.hr_window(scale, lr) // scale - lr) // 2
    crop = torch.from_numpy(next(iter(crops.values())).transpose(2, 0, 1).copy())[None]
    np.testing.assert_array_equal(clean.lr, quantize(downsample(crop, scale))[..., m:m + lr, m:m + lr])
    assert 0.05 < (noisy.lr - clean.lr).std() < 0.15  # σ = 0.1 (clipping and rounding aside)
    assert not torch.equal(a[1].lr, clean.lr) and not torch.equal(a[1].lr, a[2].lr)
    assert pred.build_test_set(crops, **{**args, "seed": 6})[3].lr.ne(noisy.lr).any()  # the seed matters
    table = pred.inputs_table(a)
    assert table.columns.tolist() == ["name", "crop", "degradations", "blur_sigma", "noise_sigma"]
    with pytest.raises(ValueError, match="need"):
        pred.build_test_set({"tiny": np.zeros((10, 10, 3), np.float32)}, scale, lr)
    with pytest.raises(ValueError, match="unknown degradation"):
        a[0].has("jpeg")


def test_heldout_photos_are_not_training_images():
    photos, avoid = pred.heldout_photos()
    train = {name for _, name, _ in TRAIN_SOURCES}
    assert set(photos) == {name for _, name, *_ in EVAL_SOURCES} and not set(photos) & train
    assert sum(len(b) for b in avoid.values()) == len(EVAL_SOURCES)
    crops = pred.pick_crops(photos, 68, 2, seed=0, avoid=avoid)
    for name in crops:
        stem, top, left = name.rsplit("_", 2)
        photo = next(p for p in photos if p.rsplit(".", 1)[0] == stem)
        assert not any(pred._overlaps((int(top), int(left), 68, 68), b) for b in avoid[photo])


# ---------------------------------------------------------------- per-input attributions

def test_input_attributions_reuse_faig(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(2, size=16)
    cal = pred.calibration_inputs(data, 6)
    assert [t.degradations for t in cal] == ["clean", "blur", "noise"] * 2 and cal[0].lr.shape[-1] == 6
    faig = FAIG(baseline, target)
    with torch.no_grad():
        torch.testing.assert_close(pred.pseudo_target(faig, cal[1], "target"), target(cal[1].lr), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pred.pseudo_target(faig, cal[1], "baseline"), baseline(cal[1].lr), atol=1e-5, rtol=1e-5)
    a, d = pred.input_attributions(faig, cal[:3], "gt", n_steps=4, quadrature="riemann_middle")
    ref = faig.attribute_inputs([cal[1].lr], cal[1].hr, 4, "riemann_middle")
    assert a.shape == (3, len(faig)) and (a >= 0).all() and np.isfinite(d).all()
    np.testing.assert_allclose(a[1], ref["A"][0], rtol=1e-6)
    two, _ = pred.input_attributions(faig, cal[:3], "target", n_steps=4, quadrature="riemann_middle", engine=LocalEngine(2))  # threads: same numbers
    one, _ = pred.input_attributions(faig, cal[:3], "target", n_steps=4, quadrature="riemann_middle", engine=LocalEngine(1))
    np.testing.assert_array_equal(one, two)
    with pytest.raises(ValueError, match="unknown pseudo target"):
        pred.input_attributions(faig, cal, "oracle")
    x3 = pred.DegradedInput("x3", "x3", 0.0, 0.0, torch.rand(1, 3, 6, 6), torch.rand(1, 3, 18, 18))
    with pytest.raises(ValueError, match="×3 but the network is ×2"):
        pred.input_attributions(faig, [x3])
