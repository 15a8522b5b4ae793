"""One registry idiom for every pluggable concept: networks, attribution methods, degradation operators,
quadrature rules, engines and classical predictors.

BasicSR's ``Registry`` (name → entry, ``@REGISTRY.register()``) with an explicit ``order``: whoever walks a
registry (network detection tries state dicts against each architecture in turn; tables list methods) sees
lower ``order`` first, then registration order — never import order by accident. A registry is a read-only
``Mapping``, so ``name in R``, ``R[name]``, ``list(R)`` and ``R.items()`` work as on a dict.

>>> from faig_helpers.registry import Registry
>>> R = Registry("colour")
>>> @R.register(order=1)
... def red(): return "#d55e00"
>>> _ = R.register(lambda: "#0072b2", name="blue", order=0)
>>> list(R)
['blue', 'red']
>>> R["red"]()
'#d55e00'
>>> R["green"]
Traceback (most recent call last):
...
faig_helpers.errors.ConfigError: unknown colour 'green': expected one of ['blue', 'red']
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from .errors import ConfigError, FaigLabError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Name → entry, iterated by (``order``, registration order). An entry's name is the ``name`` given, else
    its ``name`` attribute when it is a string, else its ``__name__``. Unknown names and clashes raise
    ``error`` (a :class:`~faig_helpers.errors.FaigLabError`) naming the registry and what it holds."""

    def __init__(self, what: str, error: type[FaigLabError] = ConfigError) -> None:
        self.what, self.error = what, error
        self._entries: dict[str, tuple[float, int, T]] = {}

    def register(self, obj: T | None = None, *, name: str | None = None, order: float = 0) -> Any:
        """Add ``obj``; as a decorator ``@R.register`` or ``@R.register(name=..., order=...)``. Registering the
        same object again is a no-op; another object under a taken name is an error."""
        def add(entry: T) -> T:
            key = name or (entry.name if isinstance(getattr(entry, "name", None), str) else entry.__name__)
            if key in self._entries and self._entries[key][2] is not entry:
                raise self.error(f"a {self.what} named '{key}' is already registered")
            rank = self._entries[key][1] if key in self._entries else len(self._entries)
            self._entries[key] = (order, rank, entry)
            return entry
        return add if obj is None else add(obj)

    def unregister(self, name: str) -> T:
        """Remove and return ``name``'s entry (tests, notebooks that register a throw-away entry)."""
        return self._entries.pop(name)[2] if name in self._entries else self[name]

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name][2]
        except (KeyError, TypeError):
            raise self.error(f"unknown {self.what} '{name}': expected one of {list(self)}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def get(self, name: str, default: Any = None) -> Any:
        """``R[name]``, or ``default`` when nothing is registered under it (dict semantics)."""
        return self._entries[name][2] if name in self else default

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, _ in sorted(self._entries.items(), key=lambda kv: kv[1][:2])])

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {list(self)})"

    def where(self, keep: Callable[[T], bool]) -> list[str]:
        """The names whose entry satisfies ``keep``, in order."""
        return [k for k, v in self.items() if keep(v)]
