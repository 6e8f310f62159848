"""Argparse types for numeric options, with errors naming the bad value."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)


def whole_number(low: int) -> Callable[[str], int]:
    """A whole number not below ``low``."""
    return _at_least(low, int, "a whole number")


def seconds(low: float) -> Callable[[str], float]:
    """Seconds, not below ``low`` (NaN is refused too)."""
    return _at_least(low, float, "seconds")


def _at_least(low: N, kind: Callable[[str], N], what: str) -> Callable[[str], N]:
    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value >= low:
            msg = f"expected {what} of at least {low}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse
