"""A name → network class registry in BasicSR's style (``@ARCH_REGISTRY.register()``)."""
from __future__ import annotations

from collections.abc import Iterator

from ..errors import ArchitectureError

__all__ = ["Registry", "ARCH_REGISTRY", "register_arch"]


class Registry:
    """Maps a name (the class name unless given) to a network class, in registration order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._classes: dict[str, type] = {}

    def register(self, obj: type | None = None, name: str | None = None):
        """Register ``obj`` under ``name`` (default: ``obj.__name__``); usable as ``@register()`` or
        ``@register`` or ``register(cls)``."""
        def add(cls: type) -> type:
            key = name or cls.__name__
            if key in self._classes and self._classes[key] is not cls:
                raise ArchitectureError(f"an architecture named '{key}' is already registered in '{self.name}'")
            self._classes[key] = cls
            return cls
        return add if obj is None else add(obj)

    def get(self, name: str) -> type:
        try:
            return self._classes[name]
        except KeyError:
            raise ArchitectureError(f"no architecture named '{name}' in the '{self.name}' registry "
                                    f"(registered: {', '.join(self._classes)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[tuple[str, type]]:
        return iter(list(self._classes.items()))

    def keys(self) -> list[str]:
        return list(self._classes)


ARCH_REGISTRY = Registry("arch")


def register_arch(cls: type | None = None, *, name: str | None = None):
    """Decorator: ``@register_arch`` or ``@register_arch(name='MyNet')`` adds a class to :data:`ARCH_REGISTRY`.

    A registered class may define ``kwargs_from_state_dict(sd) -> dict | None`` (its constructor
    arguments inferred from a state dict, None when the keys are not its own) so that
    :func:`faig_helpers.archs.describe` recognises its checkpoints, and ``convert_state_dict(sd)`` when
    it accepts an older key layout."""
    return ARCH_REGISTRY.register(cls, name=name)
