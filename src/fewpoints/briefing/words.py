"""How the briefing states its numbers: shares in words, the synthetic-data caveat, what counts as few.

:func:`pct` writes a share in whole percent that never rounds a
near-certainty to 100% or a few to 0%, :func:`error_pct` a relative error;
:func:`fact` keeps a share the briefing states (value, interval, targets) for
``results.json``. :data:`SYNTHETIC` is the caveat every caption carries and
:data:`FEW` the share below which a title says "few".
"""

from __future__ import annotations

SYNTHETIC = (
    "All data are synthetic: a simulated city whose people and phones do not exist; "
    "the numbers show what the method does, not a measurement of any real population."
)


#: Unicity below this share counts as "few singled out" in the last figure's title.
FEW = 0.10


def pct(v) -> str:
    """A share in whole percent that never rounds a near-certainty to 100% or a few to 0%."""
    v = float(v)
    if 0.995 <= v < 1:
        return "over 99%"
    if 0 < v < 0.005:
        return "under 1%"
    return f"{v:.0%}"


def error_pct(v) -> str:
    """A relative error as a whole percentage (0.45 -> "45%")."""
    return f"{float(v):.0%}"


def fact(row) -> dict:
    """A share stated in the briefing: value, 95% interval and targets, for results.json."""
    keys = ("unicity", "ci_low", "ci_high", "n_targets")
    get = row.get if hasattr(row, "get") else lambda k: getattr(row, k)
    return {k: (float(get(k)) if k != "n_targets" else int(get(k))) for k in keys}
