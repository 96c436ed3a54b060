"""The argument types the commands share: whole numbers, seeds, counts and positive
numbers, each refused with a one-line message naming what was expected; and
:func:`deprecated_alias`, the one way an old option name keeps working.
"""

from __future__ import annotations

import argparse
import sys

from fewpoints.common import deprecation


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def seed(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {value}")
    return value


def count(text: str) -> int:
    return seed(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


class _Alias(argparse.Action):
    """An old option name: sets its new option's value and says so in one line on stderr."""

    def __init__(self, option_strings, dest, new: str, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"fewpoints: {deprecation(option_string, self.new)}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def deprecated_alias(parser, old: str, new: str, **kwargs) -> None:
    """Let ``old`` still set ``new`` (same type and choices), hidden from ``--help``."""
    dest = new.lstrip("-").replace("-", "_")
    parser.add_argument(old, dest=dest, action=_Alias, new=new, help=argparse.SUPPRESS, **kwargs)
