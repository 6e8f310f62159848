"""Numeric option types: the value back, or an error naming what was given."""

from __future__ import annotations

import argparse
import re

import pytest

from lifeline.argtypes import seconds, whole_number


def test_values_in_range_come_back_typed() -> None:
    assert whole_number(1)("3") == 3
    assert seconds(0.1)("0.25") == 0.25


@pytest.mark.parametrize("text", ["0", "-2", "x", "1.5"])
def test_whole_numbers_below_the_floor_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(text))):
        whole_number(1)(text)


@pytest.mark.parametrize("text", ["0.05", "-1", "nan", "soon"])
def test_seconds_below_the_floor_or_not_numbers_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"at least 0\.1"):
        seconds(0.1)(text)
