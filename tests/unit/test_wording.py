"""Counts in the command's output: one noun, or its plural."""

from __future__ import annotations

import pytest

from lifeline.wording import counted


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 tasks"), (1, "1 task"), (2, "2 tasks")]
)
def test_the_plural_unless_exactly_one(count: int, text: str) -> None:
    assert counted(count, "task") == text


def test_an_irregular_plural_is_given() -> None:
    assert counted(3, "entry", "entries") == "3 entries"
    assert counted(1, "entry", "entries") == "1 entry"
