"""The per-image result cache of an attribution run: one ``.npz`` per image, keyed by what the result depends on,
written atomically as soon as the image is done (so an interrupted run resumes with identical scores)."""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..io_utils import atomic_path, tensor_digest
from ..quadrature import ADAPTIVE

__all__ = ["ImageCache", "cache_key"]


def cache_key(method: str, n_steps: int, quadrature: str, precision: str, degradations: Sequence[str],
              models: Sequence[torch.Tensor]) -> str:
    """The cache folder of a run: method, rule, nodes, precision, degradation set and a digest of θ and θ̄."""
    rule = f"{quadrature}2" if quadrature == ADAPTIVE else quadrature  # 2: the stopping rule of 0.2
    return f"{method}-{rule}-{n_steps}-{precision}-{'_'.join(degradations)}-{tensor_digest(*models)}"


class ImageCache:
    """``{root}/{key}/{image stem}-{digest of the image's tensors}.npz``; ``root=None``: caches nothing."""

    def __init__(self, root: str | os.PathLike | None, key: str) -> None:
        self.folder = None if root is None else Path(root) / key

    def path(self, name: str, tensors: Sequence[torch.Tensor]) -> Path | None:
        """Where image ``name`` (its GT and inputs ``tensors``) is cached."""
        return None if self.folder is None else self.folder / f"{Path(name).stem}-{tensor_digest(*tensors)}.npz"

    @staticmethod
    def read(path: Path | None) -> dict[str, np.ndarray] | None:
        """The cached arrays, or None when there are none — or they cannot be read (truncated, written by another
        version): then a warning names the file and the image is recomputed."""
        if path is None or not path.exists():
            return None
        try:
            with np.load(path) as z:
                return dict(z)
        except Exception as e:
            first = str(e).splitlines()[0][:80] if str(e) else ""
            warnings.warn(f"{path}: unreadable cache entry ({type(e).__name__}: {first}); recomputing this image",
                          stacklevel=3)
            return None

    @staticmethod
    def write(path: Path | None, arrays: dict[str, np.ndarray]) -> None:
        """Save ``arrays`` at ``path`` atomically (no half-written entry survives an interruption)."""
        if path is not None:
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **arrays)
