"""The errors of FAIG Lab: one base class, one child per kind of bad input.

Every error this package raises for something a user passed (a file, a key, a parameter) is a
:class:`FaigLabError` — still a :class:`ValueError` — whose message names the file, the key and
what was expected, in one line. The CLI catches the base class and exits with that line.
"""
from __future__ import annotations

__all__ = ["FaigLabError", "ConfigError", "CheckpointError", "ArchitectureError", "ImageError",
           "DegradationError", "AttributionError", "RankingError", "EngineError"]


class FaigLabError(ValueError):
    """Bad input to FAIG Lab: the message says which file, key or parameter, and what was expected."""


class ConfigError(FaigLabError):
    """A parameter has a value that cannot be used (e.g. an unknown method or an empty set)."""


class CheckpointError(FaigLabError):
    """A checkpoint file is missing, unreadable, or does not fit what was expected."""


class ArchitectureError(FaigLabError):
    """A state dict does not describe a network this package can build."""


class ImageError(FaigLabError):
    """An image file is unreadable or a dataset folder is inconsistent."""


class DegradationError(FaigLabError):
    """A degradation name or strength is not one the registry can build."""


class AttributionError(FaigLabError):
    """An attribution cannot be computed (e.g. a non-finite loss or gradient)."""


class RankingError(FaigLabError):
    """A ranking file is missing, corrupt, or not a permutation of the filters."""


class EngineError(FaigLabError):
    """An engine cannot run the tasks: Ray missing, a cluster unreachable, a worker lost too often."""
