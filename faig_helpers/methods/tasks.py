"""One image's attribution as an engine runs it (:mod:`faig_helpers.engines`): picklable, movable to a device,
splittable so that a worker receives the method once and only the images it runs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..degradations import DatasetRoot

if TYPE_CHECKING:
    from .base import Attribution

__all__ = ["ImageTask"]


@dataclass
class ImageTask:
    """One image's attribution, as an engine runs it: ``task(i, model)`` (picklable for Ray)."""

    method: Attribution
    data: DatasetRoot | None
    n_steps: int
    quadrature: str

    def __call__(self, i: int, model: nn.Module | None = None) -> dict[str, np.ndarray]:
        return self.method.attribute_image(self.data, i, self.n_steps, self.quadrature, model)

    def to(self, device: str | torch.device) -> "ImageTask":
        """The task with its method on ``device`` (images move per use)."""
        self.method.to(device)
        return self

    def split(self) -> tuple["ImageTask", Callable[[int], DatasetRoot]]:
        """For engines that ship work to other processes: this task without its images, and item → the one-image
        dataset that item reads (so a worker receives the method once and only the images it runs)."""
        def part(i: int) -> DatasetRoot:
            d = self.data
            return DatasetRoot([d.names[i]], d.gt[i:i + 1], {k: v[i:i + 1] for k, v in d.inputs.items()},
                               d.clean[i:i + 1])

        return ImageTask(self.method, None, self.n_steps, self.quadrature), part

    def bind(self, part: DatasetRoot) -> Callable[[int, nn.Module | None], dict[str, np.ndarray]]:
        """The task of one image from :meth:`split`'s part, called as ``task(item, model)``."""
        task = ImageTask(self.method, part, self.n_steps, self.quadrature)
        return lambda _item, model=None: task(0, model)
