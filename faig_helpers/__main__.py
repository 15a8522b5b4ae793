"""Command line: ``python -m faig_helpers {degrade,embed,retrain,rank,modulate,realcugan,lam} ...``
(every command is parsed in :mod:`faig_helpers.cli`)."""
from __future__ import annotations

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
