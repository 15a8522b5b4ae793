"""The parameters every notebook shares, defined once.

A notebook's parameters cell (papermill's ``parameters`` tag) holds only its own parameters; the common ones
below are set the same way, by name — in that cell or by ``papermill -p dataset_root …`` — and collected with
:meth:`Params.from_namespace`, then passed to :func:`~faig_helpers.lab.setup`::

    params = fl.Params.from_namespace(globals())      # the common parameters this notebook was given
    lab = fl.setup(params)

>>> from faig_helpers.params import Params
>>> p = Params.from_namespace({"device": "cpu", "table_proportions": [1, 5]}, methods=["faig"])
>>> p.device, p.methods, p.pairs
('cpu', ['faig'], None)
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError

__all__ = ["Params"]


@dataclass(frozen=True)
class Params:
    """The common parameters (None everywhere means the documented default):

    * ``pairs``: name → (baseline θ̄, target θ) — checkpoints, BasicSR experiment folders, ncnn models or
      modules; None: the notebook's default pairs (the embedded ones for most);
    * ``net``: the pair single-pair views show (None: the first of ``pairs``, unless a notebook says otherwise);
    * ``dataset_root`` / ``dataset_name``: the evaluation root of pairs that name none, its name in results/;
    * ``degradations``: the set ranked (None: the root's own set; the original layout: blur and noise);
    * ``results_dir`` / ``figures_dir``: else ``$FAIG_LAB_RESULTS_DIR`` / ``$FAIG_LAB_FIGURES_DIR``, else the
      repository's ``results/`` and ``figures/``;
    * ``device``: None: CUDA when available, else the CPU;
    * ``methods``: None: the paper's four (``"all"``: every registered method);
    * ``n_steps`` / ``quadrature``: the rankings' nodes and rule (None: the library default, ``adaptive``; the
      original: 100 and ``riemann_left``); notebook 01's rankings are reused when they match.
    """

    pairs: Mapping | None = None
    net: str | None = None
    dataset_root: str | os.PathLike | None = None
    dataset_name: str | None = None
    degradations: Sequence[str] | None = None
    results_dir: str | os.PathLike | None = None
    figures_dir: str | os.PathLike | None = None
    device: Any = None
    methods: Sequence[str] | str | None = None
    n_steps: int | None = None
    quadrature: str | None = None

    @classmethod
    def names(cls) -> list[str]:
        """The common parameters' names, in order."""
        return [f.name for f in fields(cls)]

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any], **defaults: Any) -> "Params":
        """The common parameters ``namespace`` (a notebook's ``globals()``) sets; where it sets none or None,
        the notebook's own ``defaults``, else None."""
        unknown = sorted(set(defaults) - set(cls.names()))
        if unknown:
            raise ConfigError(f"{unknown} are not common parameters (expected some of {cls.names()})")
        got = {n: namespace.get(n) for n in cls.names()}
        return cls(**{n: defaults.get(n) if v is None else v for n, v in got.items()})

    @classmethod
    def of_call(cls, pairs: Any, arguments: Mapping[str, Any]) -> "Params":
        """The common parameters of a set-up call ``f(pairs_or_params, net=…, dataset_root=…, …)`` given its
        ``locals()``: ``pairs`` may be a :class:`Params` or the pairs themselves; every common parameter the call
        names explicitly (not None) wins."""
        explicit = {n: arguments.get(n) for n in cls.names() if n != "pairs"}
        return (pairs if isinstance(pairs, Params) else cls(pairs)).merged(**explicit)

    def replace(self, **changes: Any) -> "Params":
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    def merged(self, **explicit: Any) -> "Params":
        """These parameters with every ``explicit`` value that is not None put in their place."""
        return self.replace(**{k: v for k, v in explicit.items() if v is not None})
