"""Claims tables: what a notebook finds about *a model*, reported — never asserted.

Each claim is a sentence, the values it was measured on, whether it holds (✓/✗), and a one-line
reading for when it does not. A researcher's own pair gets ✗ marks, never an exception; the
embedded default's tables are pinned by nbval comparing the printed output.

>>> c = Claims("srresnet")
>>> gain = 0.8
>>> c.add("target deblurs", gain > 1.5, f"gain {gain:+.2f} dB", "the target barely learned deblurring")
False
>>> c.show()
✗ srresnet  target deblurs  gain +0.80 dB
    → the target barely learned deblurring
0 of 1 claims hold
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Claim", "Claims", "fmt"]


def fmt(v: float, digits: int = 3) -> str:
    """A value with ``digits`` significant digits (what a claims table prints)."""
    return f"{v:.{digits}g}" if abs(v) < 10 ** digits else f"{v:.0f}"


@dataclass
class Claim:
    subject: str
    claim: str
    measured: str
    holds: bool
    reading: str = ""


@dataclass
class Claims:
    """An ordered list of claims about one or more subjects (e.g. the networks of a series)."""

    subject: str = ""
    items: list[Claim] = field(default_factory=list)

    def add(self, claim: str, holds: bool, measured: str, reading: str = "", subject: str | None = None) -> bool:
        """Record one claim; ``reading`` explains a ✗. Returns ``holds``."""
        self.items.append(Claim(self.subject if subject is None else subject, claim, measured, bool(holds),
                                "" if holds else reading))
        return bool(holds)

    def extend(self, other: "Claims") -> "Claims":
        self.items.extend(other.items)
        return self

    @property
    def all_hold(self) -> bool:
        return all(c.holds for c in self.items)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([dict(subject=c.subject, claim=c.claim, measured=c.measured,
                                  holds="✓" if c.holds else "✗", reading=c.reading) for c in self.items])

    def text(self) -> str:
        """Plain-text table (stable for nbval): one line a claim, readings indented below a ✗."""
        if not self.items:
            return "(no claims)"
        ws = max(len(c.subject) for c in self.items)
        wc = max(len(c.claim) for c in self.items)
        lines = []
        for c in self.items:
            lines.append(f"{'✓' if c.holds else '✗'} {c.subject:<{ws}}  {c.claim:<{wc}}  {c.measured}")
            if not c.holds and c.reading:
                lines.append(f"    → {c.reading}")
        held = sum(c.holds for c in self.items)
        lines.append(f"{held} of {len(self.items)} claims hold")
        return "\n".join(lines)

    def show(self) -> None:
        print(self.text())
