"""Figures of the series (matplotlib + seaborn, colour-blind-safe palette, labelled axes): :mod:`.style` is the
look every figure shares (theme, colours, labels, saving); each other module draws one experiment's figures."""
from __future__ import annotations

from .ablations import plot_baseline_choice, plot_retrain_table
from .lam import plot_di_changes, plot_lam_panels
from .layers import (layer_ticks, plot_filter_map, plot_layer_shares, plot_region_shares, plot_top_filters_per_layer,
                     set_layer_axis, short_layer_names, top_counts_per_layer)
from .localizers import plot_localizers
from .modulation import plot_dni_vs_filters, plot_lambda_grid, plot_modulation_curves, plot_reference_sweep
from .prediction import (FX_LABELS, FX_STYLES, plot_accuracy_vs_threshold, plot_auc_vs_percent,
                         plot_prediction_accuracy, plot_prediction_predictors, plot_prediction_rocs, plot_predictor_auc,
                         plot_roc_curves, predictor_label)
from .rankings import plot_convergence, plot_overlap_heatmap, plot_ranking_confidence, plot_score_distribution
from .style import degradation_colours, function_label, method_colour, method_label, savefig, use_style
from .substitution import plot_qualitative_grid, plot_substitution_curves, plot_substitution_table

__all__ = [
    # style
    "method_label", "method_colour", "degradation_colours", "function_label", "use_style", "savefig",
    # layers
    "short_layer_names", "layer_ticks", "top_counts_per_layer", "set_layer_axis", "plot_top_filters_per_layer",
    "plot_filter_map", "plot_layer_shares", "plot_region_shares",
    # rankings
    "plot_overlap_heatmap", "plot_score_distribution", "plot_convergence", "plot_ranking_confidence",
    # substitution
    "plot_substitution_table", "plot_substitution_curves", "plot_qualitative_grid",
    # modulation
    "plot_lambda_grid", "plot_modulation_curves", "plot_dni_vs_filters", "plot_reference_sweep",
    # ablations
    "plot_baseline_choice", "plot_retrain_table",
    # prediction
    "FX_STYLES", "FX_LABELS", "predictor_label", "plot_accuracy_vs_threshold", "plot_roc_curves",
    "plot_predictor_auc", "plot_auc_vs_percent", "plot_prediction_accuracy", "plot_prediction_rocs",
    "plot_prediction_predictors",
    # lam
    "plot_lam_panels", "plot_di_changes",
    # localizers
    "plot_localizers",
]
