"""Degradation prediction from the discovered filters (the paper's last experiment; no original code).

For each degradation D of a pair's set let F_D be the dataset-level top-k set of D-filters and F_x the
top-k set of filters found for one input x alone (k = ⌊n·p/100⌋ for both). Then

    OS(x, D) = |F_D ∩ F_x| / |F_x|,        predict "x contains D"  ⇔  OS(x, D) > T_D

(one yes/no decision per degradation; the paper: T_blur = 0.5 → 96 %, T_noise = 0.6 → 98 %).
F_x needs no ground truth: its loss is measured against the target's own output (:mod:`.attributions`).

One module per concept:

* :mod:`.overlap`      F_x, OS(x, D) and the decision;
* :mod:`.roc`          accuracy, accuracy curves, ROC, AUC, a calibrated threshold, confusion counts;
* :mod:`.testset`      the held-out test set (clean / each D at several strengths / mixes) and the
  calibration inputs, built with the degradation registry;
* :mod:`.classical`    one classical no-network statistic per operator (none for compositions);
* :mod:`.attributions` per-input FAIG attributions against ŷ = f_θ(x), f_θ̄(x) or the ground truth;
* :mod:`.experiment`   one pair's experiment (:class:`Prediction`): attributions, overlaps, thresholds;
* :mod:`.tables`       every table, claim and caption of notebook 05.
"""
from .attributions import PSEUDO_TARGETS, input_attributions, pseudo_target
from .classical import (CLASSICAL, Statistic, classical_scores, classical_statistic, jpeg_blockiness,
                        laplacian_variance, noise_sigma_mad)
from .experiment import Prediction, prediction_experiment, save_prediction
from .overlap import overlap_score, overlap_scores, predict
from .roc import accuracy, accuracy_curve, auc, calibrate_threshold, confusion, roc_curve
from .tables import (THRESHOLD_GRID, accuracy_table, auc_table, confusion_table, describe_accuracy, describe_auc,
                     describe_mixed, k_table, mixed_table, prediction_claims, prediction_scores, predictor_table,
                     roc_table)
from .testset import (DegradedInput, InputSet, build_test_set, calibration_inputs, heldout_photos, hr_window,
                      input_variants, load_photos, pick_crops)

__all__ = [
    "overlap_score", "overlap_scores", "predict",
    "accuracy", "accuracy_curve", "auc", "roc_curve", "calibrate_threshold", "confusion",
    "DegradedInput", "InputSet", "pick_crops", "heldout_photos", "load_photos", "hr_window", "input_variants",
    "build_test_set", "calibration_inputs",
    "laplacian_variance", "noise_sigma_mad", "jpeg_blockiness", "Statistic", "CLASSICAL", "classical_statistic",
    "classical_scores",
    "PSEUDO_TARGETS", "pseudo_target", "input_attributions",
    "Prediction", "prediction_experiment", "save_prediction",
    "THRESHOLD_GRID", "prediction_scores", "accuracy_table", "roc_table", "auc_table", "confusion_table",
    "predictor_table", "mixed_table", "k_table", "prediction_claims", "describe_accuracy", "describe_auc",
    "describe_mixed",
]
