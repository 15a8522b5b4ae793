"""Degradation prediction: the building blocks (overlap score, ROC/AUC, classical estimators, the test-set builder
for any set of degradations, per-input attributions); the experiment and every table of notebook 05, on a hand-made
experiment whose numbers can be checked by hand and end to end on a three-degradation set (blur, noise, JPEG)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import faig_helpers as fl  # noqa: E402
from faig_helpers import prediction as pred  # noqa: E402
from faig_helpers.checkpoint import load_pair  # noqa: E402
from faig_helpers.degradations import CLEAN, blur, degradation, downsample, jpeg, quantize  # noqa: E402
from faig_helpers.embedded import EVAL_SOURCES, TRAIN_SOURCES  # noqa: E402
from faig_helpers.engines import LocalEngine  # noqa: E402
from faig_helpers.errors import ConfigError, ImageError  # noqa: E402
from faig_helpers.filters import top_count, top_set  # noqa: E402
from faig_helpers.images import write_image  # noqa: E402
from faig_helpers.methods import FAIG  # noqa: E402
from faig_helpers.prediction.testset import _overlaps  # noqa: E402

from helpers import tiny_data, tiny_pair  # noqa: E402


# ---------------------------------------------------------------- the public API

def test_the_package_is_the_prediction_namespace():
    for name in pred.__all__:
        assert getattr(fl.prediction, name) is getattr(pred, name), name
    assert fl.viz.plot_prediction_accuracy and fl.viz.plot_prediction_rocs and fl.viz.plot_prediction_predictors


# ---------------------------------------------------------------- overlap score

def test_overlap_score_on_hand_made_sets():
    assert pred.overlap_score([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5
    assert pred.overlap_score([1, 2, 3, 4], [9, 8]) == 0.0
    assert pred.overlap_score(np.arange(10), [2, 7, 9]) == 1.0
    assert pred.overlap_score([1], [1, 2, 3]) == pytest.approx(1 / 3)  # divides by |F_x|, not |F_D|
    with pytest.raises(ConfigError, match="empty"):
        pred.overlap_score([1, 2], [])


def test_overlap_scores_use_each_rows_top_k():
    n = 200  # k = ⌊200 · 2 / 100⌋ = 4
    a = np.zeros((3, n))
    a[0, [10, 11, 12, 13]] = [4, 3, 2, 1]  # F_x = {10..13}
    a[1, [10, 50, 60, 70]] = 1.0  # F_x = {10, 50, 60, 70}
    a[2, [10, 11, 12, 13, 14]] = [1, 1, 1, 1, 2]  # top 4: 14 then the tie 10, 11, 12 (index order)
    f_d = np.array([10, 11, 12, 13])
    assert top_count(n, 2.0) == 4
    assert top_set(a, 2.0).tolist() == [[10, 11, 12, 13], [10, 50, 60, 70], [14, 10, 11, 12]]
    np.testing.assert_allclose(pred.overlap_scores(f_d, a, 2.0), [1.0, 0.25, 0.75])
    np.testing.assert_allclose(pred.overlap_scores([10, 14], a, 2.0), [0.25, 0.25, 0.5])  # / |F_x| = k
    for row, s in zip(top_set(a, 2.0), pred.overlap_scores(f_d, a, 2.0)):
        assert pred.overlap_score(f_d, row) == s
    with pytest.raises(ConfigError, match="empty set"):
        pred.overlap_scores(f_d, a, 0)
    assert top_set(a, 0.1).shape == (3, 1)  # any p > 0 selects at least one filter
    with_nan = np.vstack([a, np.full(n, np.nan)])  # a row not computed stays NaN
    np.testing.assert_allclose(pred.overlap_scores(f_d, with_nan, 2.0), [1.0, 0.25, 0.75, np.nan])
    order = np.argsort(-np.nan_to_num(with_nan), axis=1, kind="stable")  # a precomputed order gives the same
    np.testing.assert_allclose(pred.overlap_scores(f_d, with_nan, 2.0, order), [1.0, 0.25, 0.75, np.nan])


# ---------------------------------------------------------------- decisions, ROC, AUC

def test_auc_on_known_inputs():
    assert pred.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75  # the classic textbook example
    assert pred.auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert pred.auc([1, 2, 3, 4], [1, 1, 0, 0]) == 0.0
    assert pred.auc([0.5] * 6, [0, 1] * 3) == 0.5  # ties count one half
    assert pred.auc([0, 1, 1, 2], [0, 0, 1, 1]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    with pytest.raises(ConfigError, match="positives and negatives"):
        pred.auc([1, 2], [1, 1])
    with pytest.raises(ConfigError, match="3 scores but 2 labels"):
        pred.auc([1, 2, 3], [0, 1])
    with pytest.raises(ConfigError, match="NaN"):
        pred.auc([np.nan, 2], [0, 1])


def test_roc_area_equals_the_rank_statistic():
    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=60), 1)  # many ties
    y = rng.random(60) < 0.4
    fpr, tpr = pred.roc_curve(s, y)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2) == pytest.approx(pred.auc(s, y))  # trapezoid area
    fpr, tpr = pred.roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])  # by hand: t = 0.8, 0.4, 0.35, 0.1
    assert fpr.tolist() == [0, 0, 0.5, 0.5, 1] and tpr.tolist() == [0, 0.5, 0.5, 1, 1]


def test_accuracy_confusion_and_the_strict_threshold():
    s, y = np.array([0.2, 0.5, 0.6, 0.9]), np.array([0, 0, 1, 1], bool)
    assert pred.predict(s, 0.5).tolist() == [False, False, True, True]  # OS > T, not ≥
    assert pred.accuracy(s, y, 0.5) == 1.0 and pred.accuracy(s, y, 0.1) == 0.5
    assert pred.confusion(s, y, 0.3) == dict(tp=2, fn=0, fp=1, tn=1)
    np.testing.assert_allclose(pred.accuracy_curve(s, y, [0.0, 0.5, 1.0]), [0.5, 1.0, 0.5])
    grid = np.linspace(0, 1, 11)
    np.testing.assert_allclose(pred.accuracy_curve(s, y, grid), [pred.accuracy(s, y, t) for t in grid])


def test_calibrated_threshold_separates_what_can_be_separated():
    s, y = np.array([0.1, 0.2, 0.3, 0.7, 0.8]), np.array([0, 0, 0, 1, 1], bool)
    t = pred.calibrate_threshold(s, y)
    assert t == pytest.approx(0.5) and pred.accuracy(s, y, t) == 1.0  # the midpoint between 0.3 and 0.7
    s2, y2 = np.array([0.1, 0.6, 0.4, 0.9]), np.array([0, 0, 1, 1], bool)  # not separable: best is 3 of 4
    assert pred.accuracy(s2, y2, pred.calibrate_threshold(s2, y2)) == 0.75


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
    with pytest.raises(ImageError, match="too small"):
        pred.laplacian_variance(torch.zeros(1, 3, 2, 2))
    y = np.zeros((5, 5))
    y[2, 2] = 1.0  # one bright pixel: Laplacian −4 at it, 1 at its 4 neighbours, 0 at the other 4 of the 3×3 interior
    assert pred.laplacian_variance(y) == pytest.approx(np.var([-4, 1, 1, 1, 1, 0, 0, 0, 0]))


def test_jpeg_blockiness_sees_the_block_grid_at_any_phase():
    steps = np.tile(np.repeat(np.arange(4.0), 8), (32, 1))  # a staircase with steps every 8 columns only
    assert pred.jpeg_blockiness(steps) > 10  # B_h is huge, B_v = 1 (no vertical change)
    assert pred.jpeg_blockiness(np.tile(np.arange(32.0), (32, 1))) == pytest.approx(1.0)  # a ramp: no grid
    x = _texture()
    b = {q: pred.jpeg_blockiness(jpeg(x, q)) for q in (10, 30, 90)}
    assert b[10] > b[30] > pred.jpeg_blockiness(x) and b[10] > 2
    assert pred.jpeg_blockiness(jpeg(x, 10)[..., 3:43, 5:45]) > 2  # a crop whose grid does not start at its corner
    with pytest.raises(ImageError, match="too small"):
        pred.jpeg_blockiness(torch.zeros(1, 3, 8, 8))


def test_classical_registry_covers_single_operators_only():
    assert set(pred.CLASSICAL) == {"blur", "noise", "jpeg"}
    assert pred.classical_statistic("blur").column == "neg_log10_laplacian_var"
    assert pred.classical_statistic("noise0.05") is pred.CLASSICAL["noise"]
    assert pred.classical_statistic("jpeg30") is pred.CLASSICAL["jpeg"]
    assert pred.classical_statistic("blur+noise") is None and pred.classical_scores([_texture()], "blur+noise") is None
    x = _texture()
    assert pred.classical_scores([x], "blur")[0] == pytest.approx(-np.log10(pred.laplacian_variance(x)))


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
    assert not _overlaps(*boxes["a.png"]) and not _overlaps(*boxes["b.png"])
    assert not any(_overlaps(b, avoid["a.png"][0]) for b in boxes["a.png"])
    with pytest.raises(ImageError, match="found only"):
        pred.pick_crops(photos, 60, 4)
    with pytest.raises(ImageError, match="smaller than"):
        pred.pick_crops(photos, 100, 1)


def test_input_variants_follow_the_set_and_the_strengths():
    names = lambda vs: [(k, d.name, m) for k, d, m in vs]  # noqa: E731
    two = pred.input_variants(["blur", "noise"], {"blur": [1.0, 3.0], "noise": [0.05], "jpeg": [30]})
    assert names(two) == [("clean", "clean", False), ("blur", "blur1", False), ("blur", "blur", False),
                          ("blur", "blur3", False), ("noise", "noise0.05", False), ("noise", "noise", False),
                          ("blur+noise", "blur+noise", True)]  # the set's strength always; jpeg strengths unused
    three = pred.input_variants(["blur", "noise", "jpeg30"], {"jpeg": [70]})
    assert names(three) == [("clean", "clean", False), ("blur", "blur", False), ("noise", "noise", False),
                            ("jpeg30", "jpeg30", False), ("jpeg30", "jpeg70", False),
                            ("blur+noise", "blur+noise", True), ("blur+jpeg30", "blur+jpeg30", True),
                            ("noise+jpeg30", "noise+jpeg30", True)]
    assert names(pred.input_variants(["blur", "noise", "jpeg"], mixed=[]))[-1] == ("jpeg", "jpeg", False)
    assert names(pred.input_variants(["blur", "noise", "jpeg"], mixed=["blur+noise+jpeg"]))[-1] == \
        ("blur+noise+jpeg", "blur+noise+jpeg", True)
    with pytest.raises(ConfigError, match="unknown operators"):
        pred.input_variants(["blur", "noise"], {"gif": [1]})
    with pytest.raises(ConfigError, match="must combine"):
        pred.input_variants(["blur", "noise"], mixed=["blur+jpeg"])  # JPEG is not in the set


@pytest.mark.parametrize("scale", [2, 3])
def test_test_set_is_deterministic_and_labelled(scale):
    lr = 8
    crops = pred.pick_crops(_photos(), pred.hr_window(scale, lr), 1, seed=0)
    args = dict(scale=scale, lr_size=lr, degradations=["blur", "noise"], strengths={"blur": [1.0, 2.0], "noise": [0.1]},
                seed=5)
    a = pred.build_test_set(crops, **args)
    b = pred.build_test_set(dict(reversed(list(crops.items()))), **args)  # order does not matter
    assert len(a) == 2 * (1 + 2 + 1 + 1) and a.degradations == ["blur", "noise"]
    by_name = {t.name: t for t in b}
    for t in a:
        assert torch.equal(t.lr, by_name[t.name].lr) and torch.equal(t.hr, by_name[t.name].hr)
        assert t.lr.shape[-2:] == (lr, lr) and t.hr.shape[-2:] == (scale * lr, scale * lr)
        assert torch.equal(t.lr, quantize(t.lr)) and t.lr.min() >= 0 and t.lr.max() <= 1
    first = a.inputs[:5]
    assert [t.name.split("_", 3)[-1] for t in first] == ["clean", "blur1", "blur2", "noise0.1", "blur2_noise0.1"]
    assert [(t.has("blur"), t.has("noise")) for t in first] == [(False, False), (True, False), (True, False),
                                                                (False, True), (True, True)]
    table = a.table
    assert table.columns.tolist() == ["name", "crop", "degradation", "kind", "strength", "set_strength", "mixed"]
    assert table.kind[:5].tolist() == ["clean", "blur", "blur", "noise", "blur+noise"]
    assert table.set_strength[:5].tolist() == [True, False, True, True, True]
    np.testing.assert_array_equal(table.strength[:5], [np.nan, 1.0, 2.0, 0.1, np.nan])
    assert a.strengths("blur") == [1.0, 2.0] and a.mixes == ["blur+noise"]
    clean, noisy = first[0], first[3]
    m = (pred.hr_window(scale, lr) // scale - lr) // 2
    crop = torch.from_numpy(next(iter(crops.values())).transpose(2, 0, 1).copy())[None]
    np.testing.assert_array_equal(clean.lr, quantize(downsample(crop, scale))[..., m:m + lr, m:m + lr])
    assert 0.05 < (noisy.lr - clean.lr).std() < 0.15  # σ = 0.1 (clipping and rounding aside)
    assert not torch.equal(first[1].lr, clean.lr) and not torch.equal(first[1].lr, first[2].lr)
    assert pred.build_test_set(crops, **{**args, "seed": 6})[3].lr.ne(noisy.lr).any()  # the seed matters
    with pytest.raises(ImageError, match="need"):
        pred.build_test_set({"tiny": np.zeros((10, 10, 3), np.float32)}, scale, lr)
    with pytest.raises(ConfigError, match="unknown degradation operator"):
        clean.has("gif")


def test_test_set_of_three_degradations_uses_the_registry():
    crops = pred.pick_crops(_photos(), pred.hr_window(2, 16), 1, seed=1)
    s = pred.build_test_set(crops, 2, 16, ["blur", "noise", "jpeg"], {"jpeg": [30]}, seed=2)
    assert s.mixes == ["blur+noise", "blur+jpeg", "noise+jpeg"] and s.strengths("jpeg") == [30.0, 50.0]
    x = {t.name.split("_", 3)[-1]: t for t in s.inputs[:len(s) // 2]}
    assert set(x) == {"clean", "blur2", "noise0.1", "jpeg30", "jpeg50", "blur2_noise0.1", "blur2_jpeg50",
                      "noise0.1_jpeg50"}
    y = torch.from_numpy(next(iter(crops.values())).transpose(2, 0, 1).copy())[None]
    m = (pred.hr_window(2, 16) // 2 - 16) // 2
    for name in ("jpeg30", "noise0.1_jpeg50"):  # the registry's pipeline on the window, then the crop
        d = degradation(name.replace("_", "+"))
        ref = d.apply(y[..., :pred.hr_window(2, 16), :pred.hr_window(2, 16)], 2,
                      fl.degradations.seeded_generator(2, x[name].name))[..., m:m + 16, m:m + 16]
        torch.testing.assert_close(x[name].lr, ref, atol=0, rtol=0)
    assert x["jpeg30"].contains("jpeg") and not x["jpeg30"].contains("blur")
    assert x["noise0.1_jpeg50"].contains("noise") and x["noise0.1_jpeg50"].contains("jpeg")
    assert x["clean"].degradation is CLEAN and np.isnan(x["clean"].strength)


def _hand_set():
    """A hand-made set: per kind, the names of its inputs (strength in the name)."""
    t = torch.zeros(1, 3, 4, 4)
    spec = [("clean", "clean", False), ("clean", "clean", False), ("blur", "blur", False), ("blur", "blur1", False),
            ("noise", "noise", False), ("noise", "noise0.05", False), ("blur+noise", "blur+noise", True)]
    return pred.InputSet([pred.DegradedInput(f"x{i}", f"c{i}", degradation(d), kind, t, t, mix)
                          for i, (kind, d, mix) in enumerate(spec)], ["blur", "noise"])


def test_decision_rows_pick_positives_and_negatives():
    s = _hand_set()
    mask, y = s.decision("blur")  # set strengths: clean, blur σ = 2, noise σ = 0.1; mixed left out
    assert mask.tolist() == [True, True, True, False, True, False, False] and y.tolist() == [False, False, True, False]
    mask, y = s.decision("noise", "all", "all")  # every strength
    assert mask.tolist() == [True] * 6 + [False] and y.tolist() == [False, False, False, False, True, True]
    mask, y = s.decision("blur", 1.0, "all")  # only blur σ = 1 against everything without blur
    assert mask.tolist() == [True, True, False, True, True, True, False] and y.tolist() == [False, False, True, False,
                                                                                             False]
    assert s.contains("blur").tolist() == [False, False, True, True, False, False, True]
    with pytest.raises(ConfigError, match="not a degradation of this set"):
        s.decision("jpeg")
    with pytest.raises(ConfigError, match="positives"):
        s.decision("blur", "some")
    assert s.select(s.contains("noise")).table.name.tolist() == ["x4", "x5", "x6"]
    assert s.summary().inputs.tolist() == [2, 1, 1, 1, 1, 1]


def test_heldout_photos_are_not_training_images():
    photos, avoid = pred.heldout_photos()
    train = {name for _, name, _ in TRAIN_SOURCES}
    assert set(photos) == {name for _, name, *_ in EVAL_SOURCES} and not set(photos) & train
    assert sum(len(b) for b in avoid.values()) == len(EVAL_SOURCES)
    crops = pred.pick_crops(photos, 68, 2, seed=0, avoid=avoid)
    for name in crops:
        stem, top, left = name.rsplit("_", 2)
        photo = next(p for p in photos if p.rsplit(".", 1)[0] == stem)
        assert not any(_overlaps((int(top), int(left), 68, 68), b) for b in avoid[photo])


def test_calibration_inputs_cover_the_roots_set():
    data = tiny_data(2, size=16, degradations=("blur", "noise", "jpeg"))
    cal = pred.calibration_inputs(data, 6)
    assert [t.kind for t in cal] == ["clean", "blur", "noise", "jpeg"] * 2 and cal[0].lr.shape[-1] == 6
    assert cal.degradations == ["blur", "noise", "jpeg"] and cal.table.set_strength.all()
    assert cal.contains("jpeg").tolist() == [False, False, False, True] * 2
    torch.testing.assert_close(cal[3].lr, fl.crop(data["jpeg"][0], fl.crop_box(data["jpeg"][0].shape, 6)))
    with pytest.raises(ConfigError, match="calibration needs"):
        pred.calibration_inputs(fl.degradations.DatasetRoot(data.names, data.gt, data.inputs), 6)  # no clean images


# ---------------------------------------------------------------- per-input attributions

def test_input_attributions_reuse_faig(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    cal = pred.calibration_inputs(tiny_data(2, size=16), 6)
    faig = FAIG(baseline, target)
    with torch.no_grad():
        torch.testing.assert_close(pred.pseudo_target(faig, cal[1], "target"), target(cal[1].lr), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pred.pseudo_target(faig, cal[1], "baseline"), baseline(cal[1].lr), atol=1e-5,
                                   rtol=1e-5)
    a, d = pred.input_attributions(faig, cal[:3], "gt", n_steps=4, quadrature="riemann_middle")
    ref = faig.attribute_inputs([cal[1].lr], cal[1].hr, 4, "riemann_middle")
    assert a.shape == (3, len(faig)) and (a >= 0).all() and np.isfinite(d).all()
    np.testing.assert_allclose(a[1], ref["A"][0], rtol=1e-6)
    run = dict(n_steps=4, quadrature="riemann_middle")
    two, _ = pred.input_attributions(faig, cal[:3], "target", engine=LocalEngine(2), **run)  # threads: same numbers
    one, _ = pred.input_attributions(faig, cal[:3], "target", engine=LocalEngine(1), **run)
    np.testing.assert_array_equal(one, two)
    assert pred.input_attributions(faig, [], "target")[0].shape == (0, len(faig))
    with pytest.raises(ConfigError, match="unknown pseudo target"):
        pred.input_attributions(faig, cal, "oracle")
    x3 = pred.DegradedInput("x3", "x3", CLEAN, "clean", torch.rand(1, 3, 6, 6), torch.rand(1, 3, 18, 18))
    with pytest.raises(ConfigError, match="×3 but the network is ×2"):
        pred.input_attributions(faig, [x3])


# ---------------------------------------------------------------- the experiment and every table of notebook 05,
# on a hand-made experiment whose numbers can be checked by hand

N_FILTERS, PERCENT = 100, 4.0  # k = 4
BLUR_SET, NOISE_SET = [0, 1, 2, 3], [4, 5, 6, 7]  # FAIG's F_blur and F_noise
#: the test inputs: (kind, degradation, mixed, F_x of f_θ(x)) — every OS is |F_D ∩ F_x| / 4 by eye
TESTS = [("clean", "clean", False, [20, 21, 22, 23]),  # OS blur 0,    noise 0
         ("clean", "clean", False, [0, 20, 21, 22]),  # blur 0.25
         ("blur", "blur", False, [0, 1, 2, 3]),  # blur 1
         ("blur", "blur", False, [0, 1, 4, 20]),  # blur 0.5,  noise 0.25
         ("blur", "blur1", False, [0, 20, 21, 22]),  # blur 0.25 (σ = 1)
         ("noise", "noise", False, [4, 5, 6, 7]),  # noise 1
         ("noise", "noise", False, [4, 5, 0, 20]),  # noise 0.5, blur 0.25
         ("blur+noise", "blur+noise", True, [0, 1, 2, 4])]  # blur 0.75, noise 0.25
#: the calibration inputs: clean (OS blur 0, noise 0), blurry (0.75, 0.25), noisy (0.25, 0.75) → calibrated T = 0.5,
#: the midpoint of 0.25 and 0.75, for both
CALIBRATION = [("clean", [20, 21, 22, 23]), ("blur", [0, 1, 2, 4]), ("noise", [4, 5, 6, 0])]


def _attribution(top: list[int]) -> np.ndarray:
    a = np.zeros(N_FILTERS)
    a[top] = [4.0, 3.0, 2.0, 1.0]  # distinct values: F_x is exactly ``top`` (and top-1 is its first)
    return a


def _scores(blur_set: list[int], noise_set: list[int], method: str) -> fl.FilterScores:
    s = {d: np.zeros(N_FILTERS) for d in ("blur", "noise")}
    s["blur"][blur_set], s["noise"][noise_set] = [4, 3, 2, 1], [4, 3, 2, 1]
    return fl.FilterScores(method, s)


@pytest.fixture
def hand():
    g = torch.Generator().manual_seed(0)

    def x(kind, d, mix, i, prefix):
        lr = torch.rand(1, 3, 24, 24, generator=g)
        return fl.prediction.DegradedInput(f"{prefix}{i}", f"c{i}", degradation(d), kind, lr, lr, mix)

    tests = fl.prediction.InputSet([x(k, d, m, i, "t") for i, (k, d, m, _) in enumerate(TESTS)], ["blur", "noise"])
    cal = fl.prediction.InputSet([x(k, k, False, i, "c") for i, (k, _) in enumerate(CALIBRATION)], ["blur", "noise"])
    target = np.stack([_attribution(top) for *_, top in TESTS])
    gt = target.copy()
    gt[(~tests.table.set_strength | tests.table.mixed).to_numpy()] = np.nan  # references: set strengths only
    rankings = {"faig": _scores(BLUR_SET, NOISE_SET, "faig"),
                "random": _scores([8, 9, 10, 11], [12, 13, 14, 15], "random")}
    return fl.prediction.Prediction("hand", "toy", tests, cal, rankings, {"target": target, "gt": gt},
                         np.stack([_attribution(top) for _, top in CALIBRATION]), PERCENT, {"blur": 0.5, "noise": 0.6},
                         {"blur": 0.96, "noise": 0.98})


def test_overlaps_and_calibrated_thresholds_by_hand(hand):
    o = hand.overlaps()
    np.testing.assert_allclose(o["blur"], [0, 0.25, 1, 0.5, 0.25, 0, 0.25, 0.75])
    np.testing.assert_allclose(o["noise"], [0, 0, 0, 0.25, 0, 1, 0.5, 0.25])
    np.testing.assert_allclose(hand.overlaps("faig", "gt")["blur"], [0, 0.25, 1, 0.5, np.nan, 0, 0.25, np.nan])
    np.testing.assert_allclose(hand.overlaps("random")["blur"], 0)
    np.testing.assert_allclose(hand.calibration_overlaps()["blur"], [0, 0.75, 0.25])
    assert hand.k() == 4 and hand.k(1.0) == 1 and hand.methods == ["faig", "random"] and hand.references == ["gt"]
    assert hand.calibrated_threshold("blur") == 0.5 and hand.calibrated_threshold("noise") == 0.5
    np.testing.assert_allclose(hand.overlaps(percent=1.0)["blur"], [0, 1, 1, 1, 1, 0, 0, 1])  # top-1 sets
    with pytest.raises(ConfigError, match="no 'ig' ranking"):
        hand.overlaps("ig")
    with pytest.raises(ConfigError, match="no F_x from 'baseline'"):
        hand.overlaps("faig", "baseline")


def test_scores_and_accuracy_tables(hand):
    s = fl.prediction.prediction_scores(hand)
    assert list(s.columns[:7]) == ["name", "crop", "degradation", "kind", "strength", "set_strength", "mixed"]
    assert {"os_blur", "os_noise", "os_blur_gt", "os_noise_gt", "neg_log10_laplacian_var", "noise_sigma_mad"} <= set(s)
    np.testing.assert_allclose(s.os_noise, hand.overlaps()["noise"])
    curves = fl.prediction.accuracy_table(hand, [0.0, 0.3, 0.5, 0.9])
    c = curves.set_index(["degradation", "inputs", "fx", "threshold"]).accuracy
    # blur at set strengths: inputs 0, 1, 2, 3, 5, 6 with OS 0, .25, 1, .5, 0, .25 and labels F F T T F F
    assert [c["blur", "set strengths", "target", t] for t in (0.0, 0.3, 0.5, 0.9)] == [4 / 6, 1, 5 / 6, 5 / 6]
    assert c["blur", "set strengths", "gt", 0.5] == 5 / 6
    # over all strengths blur σ = 1 (OS 0.25) joins the positives and noise σ = 0.05 is not there
    assert c["blur", "all strengths", "target", 0.3] == 6 / 7
    assert set(curves.inputs) == {"set strengths", "all strengths"} and set(curves.fx) == {"target", "gt"}


def test_roc_auc_and_confusion_tables(hand):
    a = fl.prediction.auc_table(hand).set_index(["degradation", "strength"])
    assert a.auc["blur", 2.0] == 1.0  # positives OS {1, .5} over negatives {0, .25, 0, .25}
    assert a.auc["blur", 1.0] == 0.75  # OS .25 over {0, .25, 0, .25}: (1 + ½ + 1 + ½) / 4
    assert a.auc["noise", 0.1] == 1.0 and np.isfinite(a.classical).all()
    r = fl.prediction.roc_table(hand)
    assert set(r.curve) == {"FAIG OS, σ = 1", "FAIG OS, σ = 2", "classical, σ = 2", "FAIG OS, σ = 0.1",
                            "classical, σ = 0.1"}
    blur2 = r[r.curve == "FAIG OS, σ = 2"]
    assert blur2.fpr.tolist() == [0, 0, 0, 0.5, 1] and blur2.tpr.tolist() == [0, 0.5, 1, 1, 1]
    c = fl.prediction.confusion_table(hand).set_index(["degradation", "threshold"])
    assert c.loc[("blur", "paper T = 0.5"), ["tp", "fn", "fp", "tn"]].tolist() == [1, 1, 0, 4]  # OS 0.5 is not > 0.5
    assert c.loc[("noise", "calibrated T = 0.5"), "accuracy"] == 5 / 6  # noise OS 1 (yes), .5 (no: not > T), rest ≤ .25
    assert c.loc[("noise", "paper T = 0.6"), ["tp", "fn"]].tolist() == [1, 1]


def test_predictor_mixed_and_k_tables(hand):
    p = fl.prediction.predictor_table(hand).set_index(["degradation", "predictor", "fx"])
    assert p.loc[("blur", "faig", "target")].tolist() == [1.0, 5 / 6, 5 / 6]  # AUC, paper T, calibrated T = 0.5
    assert p.loc[("blur", "random", "target")].auc == 0.5  # every OS 0: ties only
    assert p.loc[("blur", "faig", "gt")].auc == 1.0 and np.isnan(p.loc[("blur", "faig", "gt")].acc_calibrated)
    assert p.loc[("noise", "classical", fl.prediction.CLASSICAL["noise"].label)].notna().auc
    m = fl.prediction.mixed_table(hand).set_index(["mixed", "thresholds"])
    assert m.loc[("blur+noise", "paper")][["mean_os_blur", "says_blur", "says_noise", "says_all"]].tolist() == \
        [0.75, 1.0, 0.0, 0.0]
    assert m.loc[("blur+noise", "calibrated"), "inputs"] == 1
    k = fl.prediction.k_table(hand, [1.0, 4.0]).set_index(["percent", "degradation"])
    assert k.loc[(4.0, "blur")].auc == 1.0 and k.loc[(1.0, "blur"), "k"] == 1
    # top-1 sets: blur OS 0, 1, 1, 1, 0, 0 on the set-strength inputs (labels F F T T F F)
    assert k.loc[(1.0, "blur")].auc == 7 / 8  # each positive (1) beats three negatives (0) and ties one (1)


def test_claims_and_captions(hand):
    claims = fl.prediction.prediction_claims({"hand": hand})
    got = [(c.claim, c.holds, c.measured) for c in claims.items]
    assert got[0] == ("blur: paper's T = 0.5 reaches the paper's 96%", False, "83.3% (AUC 1.000)")
    assert got[1] == ("blur: calibrated T = 0.50 reaches it", False, "83.3%")
    assert got[2] == ("blur: FAIG F_D beats random (AUC)", True, "1.000 vs random 0.500")
    assert got[3][0] == "blur: filters beat the one-line statistic (AUC)"
    assert got[4] == ("blur: no ground truth needed (AUC within 0.05 of GT F_x)", True, "1.000 vs 1.000")
    assert got[-1] == ("blur+noise inputs: yes to both (calibrated T, majority)", False, "0% (blur 100%, noise 0%)")
    assert len(got) == 11 and {c.subject for c in claims.items} == {"hand"}
    text = fl.prediction.describe_accuracy(hand)
    assert text.startswith("hand, blur: at the paper's T = 0.5 the accuracy is 83% (paper 96%); the best, 100%, is "
                           "reached for T in [0.25, 0.49]. Mean OS(x, blur): 0.75 on blurry inputs (50% above T), "
                           "0.12 on clean ones, 0.12 on noisy ones.")
    assert "hand, blur: AUC of the overlap score from 0.75 (σ = 1) to 1.00 (σ = 2)" in fl.prediction.describe_auc(hand)
    describe_mixed = fl.prediction.describe_mixed
    assert describe_mixed(hand) == ("hand: on blur+noise inputs the mean OS is 0.75 for blur (blur-only inputs: "
                                       "0.75) and 0.25 for noise (noise-only inputs: 0.75).")


def test_save_prediction_writes_under_the_layout(hand, tmp_path):
    layout = fl.layout.Layout(tmp_path)
    scores, curves = fl.prediction.prediction_scores({"hand": hand}), fl.prediction.accuracy_table({"hand": hand})
    paths = fl.prediction.save_prediction(hand, layout, scores, curves)
    assert paths == [layout.prediction("hand", "toy") / "scores.csv", layout.prediction("hand", "toy") / "accuracy.csv"]
    back = pd.read_csv(paths[0])
    assert "net" not in back and len(back) == len(TESTS)
    np.testing.assert_allclose(back.os_blur, hand.overlaps()["blur"])


# ---------------------------------------------------------------- end to end, three degradations

@pytest.fixture(scope="module")
def jpeg_lab(tmp_path_factory):
    """A tiny pair ranked on a dataset root of blur, noise and JPEG, through the notebook's set-up."""
    tmp = tmp_path_factory.mktemp("jpeg")
    rng = np.random.default_rng(0)
    for i in range(3):
        img = rng.random((40, 40, 3)) * 0.5 + np.linspace(0, 0.5, 40)[:, None, None]  # texture on a ramp
        write_image(tmp / "hr" / f"img{i}.png", np.clip(img, 0, 1))
    root = fl.degradations.build_dataset_root(tmp / "hr", tmp / "root", degradations=["blur", "noise", "jpeg"])
    lab = fl.setup(pairs={"tiny": tiny_pair(tmp)}, dataset_root=root, results_dir=tmp / "results",
                   figures_dir=tmp / "figures", device="cpu", n_steps=2, quadrature="riemann_middle")
    photos = {f"p{i}.png": rng.random((64, 64, 3)).astype(np.float32) for i in range(2)}
    return lab, photos


def test_prediction_of_three_degradations_end_to_end(jpeg_lab):
    lab, photos = jpeg_lab
    pair = lab.pair
    assert pair.degradations == ["blur", "noise", "jpeg"]
    crops = fl.prediction.pick_crops(photos, fl.prediction.hr_window(pair.scale, 12), 1, seed=0, min_std=0.0)
    tests = fl.prediction.build_test_set(crops, pair.scale, 12, pair.degradations, {"blur": [1.0], "jpeg": [30]})
    cal = fl.prediction.calibration_inputs(pair.data, 12)
    p = fl.prediction.prediction_experiment(pair, lab.rankings["tiny"], tests, cal, n_steps=2, percent=5.0,
                                 thresholds={"blur": 0.5, "noise": 0.6}, paper_accuracy={"blur": 0.96, "noise": 0.98})
    assert p.degradations == ["blur", "noise", "jpeg"] and p.thresholds == {"blur": 0.5, "noise": 0.6}
    assert tests.mixes == ["blur+noise", "blur+jpeg", "noise+jpeg"] and len(tests) == 2 * (1 + 2 + 1 + 2 + 3)
    assert set(p.attributions) == {"target", "gt", "baseline"} and p.info["inputs"] == 18 + 2 * 2 * 4 + 12
    preds = {"tiny": p}
    predictors = fl.prediction.predictor_table(preds)
    assert set(predictors.degradation) == {"blur", "noise", "jpeg"} and set(predictors.predictor) == \
        {"faig", "ig", "abs_filter_change", "random", "classical"}
    assert predictors[(predictors.degradation == "jpeg") & (predictors.predictor == "classical")].fx.item() == \
        fl.prediction.CLASSICAL["jpeg"].label
    jpeg_faig = predictors[(predictors.degradation == "jpeg") & (predictors.predictor == "faig")
                           & (predictors.fx == "target")]
    assert jpeg_faig.acc_paper.isna().all() and jpeg_faig.acc_calibrated.notna().all()  # no paper T for JPEG
    conf = fl.prediction.confusion_table(preds)
    assert conf[conf.degradation == "jpeg"].threshold.str.startswith("calibrated").all() and len(conf) == 2 + 2 + 1
    mixed = fl.prediction.mixed_table(preds)
    assert set(mixed.mixed) == {"blur+noise", "blur+jpeg", "noise+jpeg"}
    assert mixed[mixed.thresholds == "paper"].mixed.tolist() == ["blur+noise"]  # the only mix with paper T's
    assert {"says_jpeg", "mean_os_jpeg", "says_all"} <= set(mixed)
    by_k = fl.prediction.k_table(preds, [1.0, 5.0])
    assert len(by_k) == 2 * 3
    claims = fl.prediction.prediction_claims(preds)
    texts = [c.claim for c in claims.items]
    assert "jpeg: calibrated T = " in " ".join(texts) and not any(t.startswith("jpeg: paper's T") for t in texts)
    assert sum(t.endswith("(calibrated T, majority)") for t in texts) == 3
    assert "no paper threshold" in fl.prediction.describe_accuracy(preds)
    assert "noise+jpeg" in fl.prediction.describe_mixed(preds)
    curves = fl.prediction.accuracy_table(preds)
    for fig, name in [(fl.viz.plot_prediction_accuracy(curves, {"blur": 0.5}, {"blur": 0.96}, 5.0), "acc.png"),
                      (fl.viz.plot_prediction_rocs(fl.prediction.roc_table(preds)), "roc.png"),
                      (fl.viz.plot_prediction_predictors(predictors, by_k, 5.0), "pred.png")]:
        assert len(fig.axes) >= 2 and lab.savefig(fig, name).is_file()
        plt.close(fig)
    saved = fl.prediction.save_prediction(p, lab.layout, fl.prediction.prediction_scores(preds), curves)
    assert all(path.is_file() for path in saved) and "jpeg_blockiness" in pd.read_csv(saved[0])


def test_experiment_checks_its_inputs(jpeg_lab):
    lab, photos = jpeg_lab
    pair = lab.pair
    crops = fl.prediction.pick_crops(photos, fl.prediction.hr_window(2, 12), 1, seed=0, min_std=0.0)
    two = fl.prediction.build_test_set(crops, 2, 12, ["blur", "noise"])
    cal = fl.prediction.calibration_inputs(pair.data, 12)
    with pytest.raises(ConfigError, match="must include 'faig'"):
        fl.prediction.prediction_experiment(pair, {"ig": lab.rankings["tiny"]["ig"]}, two, cal)
    with pytest.raises(ConfigError, match="calibration inputs are for"):
        fl.prediction.prediction_experiment(pair, lab.rankings["tiny"], two, cal)
    three = fl.prediction.build_test_set(crops, 2, 12, pair.degradations)
    with pytest.raises(ConfigError, match="unknown reference"):
        fl.prediction.prediction_experiment(pair, lab.rankings["tiny"], three, cal, references=["oracle"])
    with pytest.raises(ConfigError, match="lie in"):
        fl.prediction.prediction_experiment(pair, lab.rankings["tiny"], three, cal, thresholds={"blur": 5})
    only_two = {m: fl.FilterScores(m, {d: s.score(d) for d in ("blur", "noise")})
                for m, s in lab.rankings["tiny"].items()}
    with pytest.raises(ConfigError, match="has no \\['jpeg'\\] scores"):
        fl.prediction.prediction_experiment(pair, only_two, three, cal)
