"""The words every figure of the audit uses for the file: "measured on FILE", never "synthetic".

Shared by the figure modules (captions, alt text, chart labels) and by the
summary (precision words).
"""

from __future__ import annotations

from fewpoints.audit.result import Audit


def measured(a: Audit) -> str:
    return f"Measured on {a.source}"


def measured_values(a: Audit, values) -> str:
    """``measured on FILE: a, b, c.``, the values an alt text reads out after the file's name."""
    return f"measured on {a.source}: " + ", ".join(values) + "."


def labels(a: Audit) -> dict:
    """The words charts use for the file (instead of "synthetic city")."""
    return {
        "source": f"Measured on {a.source} - fewpoints audit",
        "series": f"{a.source} (measured)",
        "here": a.source if len(a.source) <= 24 else "This file",
        "recorded": "as recorded",
    }


def about_words(a: Audit) -> str:
    ab = a.about
    return (
        f"{ab['n_devices']:,} devices and {ab['n_records']:,} records over {ab['days']:g} days "
        f"({ab['locations_words']}; times to {ab['time_step_words']})"
    )


def fact(row) -> dict:
    return {
        "unicity": float(row["unicity"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "n_targets": int(row["n_targets"]),
    }


def precision(granularity: str) -> str:
    """``at 0.5 km precision``, or ``with locations as recorded``."""
    if str(granularity).startswith("as recorded"):
        return "with locations as recorded"
    return f"at {granularity} precision"
