"""FAIG Lab: find, test, map and modulate the filters a blind SR network uses for one degradation
(FAIG, NeurIPS 2021). This is the public API — what notebooks and scripts import, as
``import faig_helpers as fl`` or ``from faig_helpers import …``; the submodules (one per concept) are
the implementation. See README.md. In a notebook (minutes: it ranks the embedded default)::

    import faig_helpers as fl
    lab = fl.setup()                                   # the embedded default, ranked with every method
    s = lab.rankings["srresnet"]["faig"]
    fl.FilterModulator(*lab.pair.models).substitute(s.top("blur", 1.0))(x)

The names load lazily (PEP 562): ``import faig_helpers`` costs no more than what is used, so
``python -m faig_helpers rank`` never imports matplotlib or seaborn.
"""
from __future__ import annotations

import importlib

#: public name → (submodule, attribute; None: the submodule itself)
_EXPORTS: dict[str, tuple[str, str | None]] = {
    # lab
    "setup": ("lab", "setup"), "Lab": ("lab", "Lab"), "Pair": ("lab", "Pair"), "Params": ("params", "Params"),
    "resolve_device": ("lab", "resolve_device"),
    # checkpoint
    "load_pair": ("checkpoint", "load_pair"), "load_model": ("checkpoint", "load_model"),
    "load_state_dict": ("checkpoint", "load_state_dict"), "save_checkpoint": ("checkpoint", "save_checkpoint"),
    "check_pair": ("checkpoint", "check_pair"),
    # archs
    "fit_crop": ("archs", "fit_crop"), "input_size_rule": ("archs", "input_size_rule"),
    # archs.spandrel_fallback
    "import_spandrel": ("archs.spandrel_fallback", "import_spandrel"),
    # degradations (operators, names, datasets)
    "DatasetRoot": ("degradations.datasets", "DatasetRoot"), "load_dataset": ("degradations.datasets", "load_dataset"),
    "build_dataset_root": ("degradations.datasets", "build_dataset_root"),
    "read_manifest": ("degradations.datasets", "read_manifest"),
    "Degradation": ("degradations.names", "Degradation"), "Operator": ("degradations.operators", "Operator"),
    "OPERATORS": ("degradations.operators", "OPERATORS"), "degradation": ("degradations.names", "degradation"),
    "degradation_set": ("degradations.names", "degradation_set"), "PAPER_SET": ("degradations.names", "PAPER_SET"),
    "CLEAN": ("degradations.names", "CLEAN"), "seeded_generator": ("degradations.operators", "seeded_generator"),
    # layout
    "Layout": ("layout", "Layout"), "output_dirs": ("layout", "output_dirs"),
    # methods
    "Attribution": ("methods", "Attribution"), "FilterScores": ("methods", "FilterScores"),
    "METHODS": ("methods", "METHODS"), "register": ("methods", "register"),
    "method_class": ("methods", "method_class"), "resolve_methods": ("methods", "resolve_methods"),
    "attribute": ("methods", "attribute"), "FAIG": ("methods", "FAIG"),
    "IntegratedGradients": ("methods", "IntegratedGradients"),
    "AbsoluteFilterChange": ("methods", "AbsoluteFilterChange"), "RandomFilters": ("methods", "RandomFilters"),
    "DEFAULT_QUADRATURE": ("methods", "DEFAULT_QUADRATURE"), "DEFAULT_STEPS": ("methods", "DEFAULT_STEPS"),
    "ADAPTIVE_DELTA": ("methods", "ADAPTIVE_DELTA"), "ADAPTIVE_CHANGE": ("methods", "ADAPTIVE_CHANGE"),
    "PAPER_METHODS": ("methods", "PAPER_METHODS"),
    "DEFAULT_PRECISION": ("methods", "DEFAULT_PRECISION"),
    "PRECISIONS": ("methods", "PRECISIONS"), "native_bf16": ("methods", "native_bf16"),
    "resolve_precision": ("methods", "resolve_precision"),
    # quadrature
    "RULES": ("quadrature", "RULES"), "nodes_and_weights": ("quadrature", "nodes_and_weights"),
    # rankings
    "rank_all": ("rankings", "rank_all"), "save_rankings": ("rankings", "save_rankings"),
    "load_scores": ("rankings", "load_scores"), "load_ranking": ("rankings", "load_ranking"),
    # reference
    "original_faig_scores": ("reference", "original_faig_scores"),
    # convergence
    "convergence_table": ("convergence", "convergence_table"),
    # confidence
    "bootstrap_jaccard": ("confidence", "bootstrap_jaccard"),
    "agreement_by_images": ("confidence", "agreement_by_images"), "summarise": ("confidence", "summarise"),
    # engines
    "Engine": ("engines", "Engine"), "LocalEngine": ("engines", "LocalEngine"),
    "RayEngine": ("engines", "RayEngine"), "EngineError": ("errors", "EngineError"),
    "ENGINES": ("engines", "ENGINES"), "WORKERS_ENV": ("engines", "WORKERS_ENV"),
    "cpu_workers": ("engines", "cpu_workers"), "make_engine": ("engines", "make_engine"),
    "open_engine": ("engines", "open_engine"),
    # filters
    "FilterIndex": ("filters", "FilterIndex"), "top_count": ("filters", "top_count"),
    "top_set": ("filters", "top_set"), "jaccard": ("filters", "jaccard"), "top_jaccard": ("filters", "top_jaccard"),
    "top_sets_agree": ("filters", "top_sets_agree"), "ranking_from_scores": ("filters", "ranking_from_scores"),
    "jaccard_matrix": ("filters", "jaccard_matrix"),
    # comparison
    "compare": ("comparison", "compare"), "table_value": ("comparison", "table_value"),
    "specificity": ("comparison", "specificity"), "substitution_claims": ("comparison", "substitution_claims"),
    "save_original_layout_metrics": ("comparison", "save_original_layout_metrics"),
    # distribution
    "positions": ("distribution", "positions"), "layer_shares": ("distribution", "layer_shares"),
    "depth_test": ("distribution", "depth_test"), "DepthTest": ("distribution", "DepthTest"),
    "region_shares": ("distribution", "region_shares"), "unet_region": ("distribution", "unet_region"),
    # modulation
    "FilterModulator": ("modulation", "FilterModulator"),
    "modulated_state_dict": ("modulation", "modulated_state_dict"), "lambda_sweep": ("modulation", "lambda_sweep"),
    "dni_state_dict": ("modulation", "dni_state_dict"), "dni_sweep": ("modulation", "dni_sweep"),
    "matched_strength": ("modulation", "matched_strength"), "export_modulated": ("modulation", "export_modulated"),
    "ranking_top": ("rankings", "ranking_top"), "measure": ("metrics", "measure"),
    "reference_sweep": ("modulation", "reference_sweep"),
    # panel
    "ModulationPanel": ("panel", "ModulationPanel"),
    # metrics
    "calculate_psnr": ("metrics", "calculate_psnr"), "calculate_ssim": ("metrics", "calculate_ssim"),
    "psnr": ("metrics", "psnr"), "ssim": ("metrics", "ssim"), "output_difference": ("metrics", "output_difference"),
    "gradient_map": ("metrics", "gradient_map"), "colour_shift": ("metrics", "colour_shift"),
    # evaluation
    "quality_table": ("evaluation", "quality_table"), "restore_all": ("evaluation", "restore_all"),
    # images
    "read_image": ("images", "read_image"), "write_image": ("images", "write_image"),
    "to_tensor": ("images", "to_tensor"), "to_image": ("images", "to_image"), "crop_box": ("images", "crop_box"),
    "crop": ("images", "crop"), "upscale_nearest": ("images", "upscale_nearest"),
    # claims
    "Claims": ("claims", "Claims"), "Claim": ("claims", "Claim"), "fmt": ("claims", "fmt"),
    # viz (the figures: viz.style, viz.rankings, viz.substitution, …)
    "viz": ("viz", None),
    # train
    "TrainConfig": ("train", "TrainConfig"), "PairRecipe": ("train", "PairRecipe"), "train": ("train", "train"),
    "make_pair": ("train", "make_pair"),
    # errors
    "FaigLabError": ("errors", "FaigLabError"), "ConfigError": ("errors", "ConfigError"),
    "CheckpointError": ("errors", "CheckpointError"), "ArchitectureError": ("errors", "ArchitectureError"),
    "ImageError": ("errors", "ImageError"), "DegradationError": ("errors", "DegradationError"),
    "AttributionError": ("errors", "AttributionError"), "RankingError": ("errors", "RankingError"),
    # sweeps
    "rank_checkpoints": ("sweeps", "rank_checkpoints"), "find_checkpoints": ("sweeps", "find_checkpoints"),
    "Checkpoint": ("sweeps", "Checkpoint"), "CheckpointSweep": ("sweeps", "CheckpointSweep"),
    "embedded_sweep": ("sweeps", "embedded_sweep"), "setup_sweep": ("sweeps", "setup_sweep"),
    # prediction
    "overlap_score": ("prediction", "overlap_score"),
    "overlap_scores": ("prediction", "overlap_scores"), "predict": ("prediction", "predict"),
    "accuracy": ("prediction", "accuracy"), "accuracy_curve": ("prediction", "accuracy_curve"),
    "auc": ("prediction", "auc"), "roc_curve": ("prediction", "roc_curve"),
    "calibrate_threshold": ("prediction", "calibrate_threshold"), "confusion": ("prediction", "confusion"),
    "DegradedInput": ("prediction", "DegradedInput"), "InputSet": ("prediction", "InputSet"),
    "pick_crops": ("prediction", "pick_crops"), "heldout_photos": ("prediction", "heldout_photos"),
    "load_photos": ("prediction", "load_photos"), "hr_window": ("prediction", "hr_window"),
    "input_variants": ("prediction", "input_variants"), "build_test_set": ("prediction", "build_test_set"),
    "calibration_inputs": ("prediction", "calibration_inputs"),
    "laplacian_variance": ("prediction", "laplacian_variance"), "noise_sigma_mad": ("prediction", "noise_sigma_mad"),
    "jpeg_blockiness": ("prediction", "jpeg_blockiness"), "Statistic": ("prediction", "Statistic"),
    "CLASSICAL": ("prediction", "CLASSICAL"), "classical_statistic": ("prediction", "classical_statistic"),
    "classical_scores": ("prediction", "classical_scores"), "PSEUDO_TARGETS": ("prediction", "PSEUDO_TARGETS"),
    "pseudo_target": ("prediction", "pseudo_target"), "input_attributions": ("prediction", "input_attributions"),
    "Prediction": ("prediction", "Prediction"), "prediction_experiment": ("prediction", "prediction_experiment"),
    "save_prediction": ("prediction", "save_prediction"), "THRESHOLD_GRID": ("prediction", "THRESHOLD_GRID"),
    "prediction_scores": ("prediction", "prediction_scores"), "accuracy_table": ("prediction", "accuracy_table"),
    "roc_table": ("prediction", "roc_table"), "auc_table": ("prediction", "auc_table"),
    "confusion_table": ("prediction", "confusion_table"), "predictor_table": ("prediction", "predictor_table"),
    "mixed_table": ("prediction", "mixed_table"), "k_table": ("prediction", "k_table"),
    "prediction_claims": ("prediction", "prediction_claims"),
    "describe_accuracy": ("prediction", "describe_accuracy"), "describe_auc": ("prediction", "describe_auc"),
    "describe_mixed": ("prediction", "describe_mixed"),
    # ablations
    "with_elimination": ("ablations", "with_elimination"), "random_baseline": ("ablations", "random_baseline"),
    "zero_baseline": ("ablations", "zero_baseline"), "baseline_choices": ("ablations", "baseline_choices"),
    "substitution_quality": ("ablations", "substitution_quality"), "train_images": ("ablations", "train_images"),
    "retrain_locations": ("ablations", "retrain_locations"),
    # published
    "published": ("published", None), "realcugan_pair": ("published", "realcugan_pair"),
    "wheel_model": ("published", "wheel_model"),
    # lam (notebook 09: which input pixels)
    "local_attribution_map": ("lam", "local_attribution_map"), "diffusion_index": ("lam", "diffusion_index"),
    "pair_maps": ("lam", "pair_maps"), "LamResult": ("lam", "LamResult"), "lam": ("lam", None),
    "default_pairs": ("embedded", "default_pairs"), "central_box": ("lam", "central_box"),
    "substitution_di": ("lam", "substitution_di"),
    # sufficiency (notebook 10: grafting and the model-merging localizers)
    "graft": ("sufficiency", "graft"), "localizer_table": ("sufficiency", "localizer_table"),
    "unit_variants": ("sufficiency", "unit_variants"), "grafted_state_dict": ("sufficiency", "grafted_state_dict"),
}
__all__ = list(_EXPORTS)



def __getattr__(name: str):
    """Import a public name's submodule on first use (and cache the name here)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'faig_helpers' has no attribute '{name}'")
    module, attr = _EXPORTS[name]
    value = importlib.import_module(f".{module}", __name__)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
