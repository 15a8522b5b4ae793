"""The network registry (:class:`~faig_helpers.registry.Registry` of architecture classes) and its decorator."""
from __future__ import annotations

from ..errors import ArchitectureError
from ..registry import Registry

__all__ = ["Registry", "ARCH_REGISTRY", "register_arch"]

#: architecture classes by name; state dicts are matched against them in ``order`` (their key sets are disjoint)
ARCH_REGISTRY: Registry[type] = Registry("architecture", ArchitectureError)


def register_arch(cls: type | None = None, *, name: str | None = None, order: float = 100):
    """Decorator: ``@register_arch`` or ``@register_arch(name='MyNet', order=5)`` adds a class to
    :data:`ARCH_REGISTRY` (``order``: where checkpoint detection tries it; built-ins use 10–50).

    A registered class may define ``kwargs_from_state_dict(sd) -> dict | None`` (its constructor
    arguments inferred from a state dict, None when the keys are not its own) so that
    :func:`faig_helpers.archs.describe` recognises its checkpoints, and ``convert_state_dict(sd)`` when
    it accepts an older key layout."""
    return ARCH_REGISTRY.register(cls, name=name, order=order)
