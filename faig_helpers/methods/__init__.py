"""Filter-attribution methods behind one captum-like contract (:class:`Attribution`), one file each:
FAIG (:mod:`.faig`), input IG (:mod:`.ig`), |Δθ| (:mod:`.abs_change`) and random (:mod:`.random`) — the paper's
comparison set — and the model-merging field's localizers: task-vector magnitude (:mod:`.task_vector`, TIES),
Fisher importance (:mod:`.fisher`) and a learned mask (:mod:`.learned_mask`, Localize-and-Stitch).
:data:`METHODS` is the registry; ``@register`` adds a method; ``methods=None`` means the paper's set
(:data:`PAPER_METHODS`)."""
from .base import Attribution, FilterScores
from .numerics import DEFAULT_PRECISION, PRECISIONS, native_bf16, resolve_precision
from .refine import ADAPTIVE_CHANGE, ADAPTIVE_DELTA, ADAPTIVE_MIN_NODES, DEFAULT_QUADRATURE, DEFAULT_STEPS, Refiner
from .registry import METHODS, PAPER_METHODS, attribute, register, resolve_methods
# the methods, one file each (their order in tables and figures is their ``order``, not this import order)
from .faig import FAIG
from .ig import IntegratedGradients
from .abs_change import AbsoluteFilterChange
from .random import RandomFilters
from .task_vector import TaskVectorMagnitude
from .fisher import FisherImportance
from .learned_mask import LearnedMask

__all__ = ["Attribution", "FilterScores", "METHODS", "register", "resolve_methods", "attribute", "Refiner", "FAIG",
           "IntegratedGradients", "AbsoluteFilterChange", "RandomFilters", "TaskVectorMagnitude", "FisherImportance",
           "LearnedMask", "PAPER_METHODS", "DEFAULT_QUADRATURE", "DEFAULT_STEPS", "ADAPTIVE_DELTA",
           "ADAPTIVE_CHANGE", "ADAPTIVE_MIN_NODES", "DEFAULT_PRECISION", "PRECISIONS", "native_bf16",
           "resolve_precision"]
