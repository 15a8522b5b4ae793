"""FAIG Lab: find, test, map and modulate the filters a blind SR network uses for one degradation
(FAIG, NeurIPS 2021). This is the public API — what notebooks and scripts import, as
``import faig_helpers as fl`` or ``from faig_helpers import …``; the submodules (one per concept) are
the implementation. See README.md. In a notebook (minutes: it ranks the embedded default)::

    import faig_helpers as fl
    lab = fl.setup()                                   # the embedded default, ranked with every method
    s = lab.rankings["srresnet"]["faig"]
    fl.FilterModulator(*lab.pair.models).substitute(s.top("blur", 1.0))(x)

The top level holds what a notebook needs first (about 60 names, :data:`__all__`); everything else lives in
its namespace, one per concept (``fl.prediction``, ``fl.viz``, ``fl.sweeps``, ``fl.archs``, … :data:`NAMESPACES`).
Names and namespaces load lazily (PEP 562): ``import faig_helpers`` costs no more than what is used, so
``python -m faig_helpers rank`` never imports matplotlib or seaborn.
"""
from __future__ import annotations

import importlib

#: public name → (submodule, attribute): what a notebook needs first
_EXPORTS: dict[str, tuple[str, str]] = {
    # set-up: pairs, data, the notebooks' parameters
    "setup": ("lab", "setup"), "Params": ("params", "Params"),
    "default_pairs": ("embedded", "default_pairs"), "realcugan_pair": ("published", "realcugan_pair"),
    "wheel_model": ("published", "wheel_model"), "load_model": ("checkpoint", "load_model"),
    "load_pair": ("checkpoint", "load_pair"), "load_dataset": ("degradations.datasets", "load_dataset"),
    # ranking filters
    "METHODS": ("methods", "METHODS"), "FAIG": ("methods", "FAIG"), "attribute": ("methods", "attribute"),
    "rank_all": ("rankings", "rank_all"), "FilterScores": ("methods", "FilterScores"),
    "FilterIndex": ("filters", "FilterIndex"), "DEFAULT_QUADRATURE": ("methods", "DEFAULT_QUADRATURE"),
    "DEFAULT_STEPS": ("methods", "DEFAULT_STEPS"), "ADAPTIVE_CHANGE": ("methods", "ADAPTIVE_CHANGE"),
    "ADAPTIVE_DELTA": ("methods", "ADAPTIVE_DELTA"),
    # necessity, sufficiency, specificity
    "compare": ("comparison", "compare"), "specificity": ("comparison", "specificity"),
    "substitution_claims": ("comparison", "substitution_claims"), "table_value": ("comparison", "table_value"),
    "quality_table": ("evaluation", "quality_table"), "graft": ("sufficiency", "graft"),
    "localizer_table": ("sufficiency", "localizer_table"), "unit_variants": ("sufficiency", "unit_variants"),
    "measure": ("metrics", "measure"),
    # modulation
    "FilterModulator": ("modulation", "FilterModulator"), "ModulationPanel": ("panel", "ModulationPanel"),
    "lambda_sweep": ("modulation", "lambda_sweep"), "dni_sweep": ("modulation", "dni_sweep"),
    "reference_sweep": ("modulation", "reference_sweep"), "matched_strength": ("modulation", "matched_strength"),
    "export_modulated": ("modulation", "export_modulated"),
    # pixels (LAM)
    "local_attribution_map": ("lam", "local_attribution_map"), "pair_maps": ("lam", "pair_maps"),
    "substitution_di": ("lam", "substitution_di"), "central_box": ("lam", "central_box"),
    # degradations and filter sets
    "degradation": ("degradations.names", "degradation"), "top_count": ("filters", "top_count"),
    "top_set": ("filters", "top_set"), "top_jaccard": ("filters", "top_jaccard"),
    "top_sets_agree": ("filters", "top_sets_agree"), "jaccard": ("filters", "jaccard"),
    # claims, images, engines, errors
    "Claims": ("claims", "Claims"), "fmt": ("claims", "fmt"), "to_image": ("images", "to_image"),
    "upscale_nearest": ("images", "upscale_nearest"), "crop": ("images", "crop"), "crop_box": ("images", "crop_box"),
    "open_engine": ("engines", "open_engine"), "RayEngine": ("engines", "RayEngine"),
    "FaigLabError": ("errors", "FaigLabError"), "ConfigError": ("errors", "ConfigError"),
    "CheckpointError": ("errors", "CheckpointError"),
}
#: the subpackages and modules, one per concept, for everything else: ``fl.prediction.build_test_set``
NAMESPACES = (
    "archs", "methods", "prediction", "viz", "sweeps", "ablations", "confidence", "convergence", "distribution",
    "reference", "metrics", "degradations", "engines", "errors", "images", "lam", "sufficiency", "modulation",
    "comparison", "filters", "checkpoint", "rankings", "published", "embedded", "train", "claims", "layout", "panel",
    "quadrature", "registry", "params", "ncnn", "evaluation", "parameter_path", "colours", "io_utils", "cli",
)
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """Import a public name's submodule (or a namespace) on first use, and cache it here."""
    if name in NAMESPACES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
    else:
        raise AttributeError(f"module 'faig_helpers' has no attribute '{name}' (the top level holds what a notebook "
                             f"needs first; the rest is in its namespace, e.g. fl.prediction, fl.viz, fl.sweeps)")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(NAMESPACES))
