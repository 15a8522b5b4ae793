"""Command line: ``python -m faig_helpers {degrade,embed,retrain,rank,modulate,realcugan,lam} ...``."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("degrade", "embed", "retrain", "rank", "modulate", "realcugan", "lam")
    if not argv or argv[0] not in commands:
        print(f"usage: python -m faig_helpers {{{','.join(commands)}}} [options]  (-h for each)")
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    cmd, rest = argv[0], argv[1:]
    if cmd == "degrade":
        from .degradations import main as run
        run(rest)
    elif cmd in ("embed", "retrain"):
        from .embedded import main as run
        run(rest, cmd)
    elif cmd == "rank":
        from .cli import rank_main
        rank_main(rest)
    elif cmd == "modulate":
        from .cli import modulate_main
        modulate_main(rest)
    elif cmd == "lam":
        from .cli import lam_main
        lam_main(rest)
    elif cmd == "realcugan":
        from .published import main as run
        run(rest)


if __name__ == "__main__":
    main()
