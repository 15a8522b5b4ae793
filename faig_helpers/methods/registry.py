"""The method registry: :data:`METHODS` (a :class:`~faig_helpers.registry.Registry`), the ``@register``
decorator, the paper's comparison set and the one-call :func:`attribute`."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..colours import COLORBLIND
from ..degradations import DatasetRoot
from ..errors import ConfigError
from ..registry import Registry
from .base import Attribution, FilterScores
from .numerics import DEFAULT_PRECISION

__all__ = ["METHODS", "register", "PAPER_METHODS", "resolve_methods", "attribute"]


#: the attribution methods by name, listed (tables, figures, ``methods="all"``) in their ``order``
METHODS: Registry[type[Attribution]] = Registry("attribution method", ConfigError)


def register(cls: type[Attribution] | None = None, **declared) -> Any:
    """Class decorator: add a method to :data:`METHODS` under its ``name``, in its ``order``. Plain ``@register``
    reads the class attributes; ``@register(name=, label=, colour=, order=, inputs=, paper=)`` declares them in
    one line. A method with no ``label`` is labelled by its name; one with no ``colour`` gets the next free
    colour of the colour-blind palette."""
    def add(cls: type[Attribution]) -> type[Attribution]:
        for key, value in declared.items():
            setattr(cls, key, value)
        if not getattr(cls, "name", ""):
            raise ConfigError(f"{cls.__name__} declares no 'name'")
        cls.label = cls.__dict__.get("label") or cls.name
        if cls.__dict__.get("colour") is None:
            used = {tuple(m.colour) for m in METHODS.values()
                    if m.colour is not None and not isinstance(m.colour, str)}
            free = [c for c in COLORBLIND if tuple(c) not in used]
            cls.colour = free[0] if free else "0.3"  # the palette is used up: dark grey
        return METHODS.register(cls, name=cls.name, order=cls.order)
    return add if cls is None else add(cls)


class _PaperMethods:
    """The names of the registered methods of the paper's comparison (``paper = True``), in the registry's order."""

    def __iter__(self):
        return iter(METHODS.where(lambda c: getattr(c, "paper", True)))

    def __contains__(self, name: object) -> bool:
        return name in list(self)

    def __repr__(self) -> str:
        return repr(list(self))


#: ``methods=None``: the paper's comparison set (FAIG, IG, |Δθ|, random); the model-merging localizers (declared
#: ``paper = False``) run when named, e.g. in notebook 10
PAPER_METHODS = _PaperMethods()


def resolve_methods(methods: Sequence[str] | None) -> list[str]:
    """``methods`` checked against the registry; None: the paper's comparison set (:data:`PAPER_METHODS`), in
    registration order; ``"all"``: every registered method."""
    names = list(PAPER_METHODS) if methods is None else list(METHODS) if methods == "all" else list(methods)
    for m in names:
        METHODS[m]
    if not names:
        raise ConfigError("methods is empty: name at least one of " + ", ".join(METHODS))
    return names


def attribute(method: str, baseline: nn.Module, target: nn.Module, data: DatasetRoot | None = None, *,
              device: str | torch.device | None = None, seed: int = 0, precision: str = DEFAULT_PRECISION,
              **options) -> FilterScores:
    """``METHODS[method](baseline, target, device=, seed=, precision=).attribute(data, **options)``."""
    return METHODS[method](baseline, target, device=device, seed=seed, precision=precision).attribute(
        data, **options)
