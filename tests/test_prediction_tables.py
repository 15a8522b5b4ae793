"""Degradation prediction, the experiment and every table of notebook 05: on a hand-made experiment whose
numbers can be checked by hand, and end to end on a three-degradation set (blur, noise, JPEG)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import faig_helpers as fl  # noqa: E402
from faig_helpers.degradations import degradation  # noqa: E402
from faig_helpers.errors import ConfigError  # noqa: E402
from faig_helpers.images import write_image  # noqa: E402

from helpers import tiny_pair  # noqa: E402

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
