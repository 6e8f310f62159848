"""Debezium's unavailable-value placeholder -> the UNCHANGED marker.

PostgreSQL does not log unchanged TOASTed column values; Debezium fills them
with a placeholder (``unavailable.value.placeholder``, by default
``__debezium_unavailable_value``): the text itself in text-like columns, its
UTF-8 bytes in bytes columns (base64 of them under JsonConverter), and a
one-element array of either in array columns. Decoders look for the
placeholder's bytes in the raw record first, so records without it pay
nothing more.
"""

from __future__ import annotations

import base64
from typing import Any

from lifeline.decode.change import UNCHANGED, Row

DEFAULT_PLACEHOLDER = "__debezium_unavailable_value"


class Placeholder:
    """Recognises one placeholder in all its encodings."""

    __slots__ = ("_forms", "_raw_marks")

    def __init__(self, text: str = DEFAULT_PLACEHOLDER) -> None:
        if not text:
            raise ValueError("the placeholder must not be empty")
        raw = text.encode()
        b64 = base64.b64encode(raw).decode()
        self._forms: frozenset[Any] = frozenset({text, raw, b64})
        # A base64 text without its padding still shows up inside the record.
        self._raw_marks = (raw, b64.rstrip("=").encode())

    def maybe_in(self, data: bytes, start: int = 0) -> bool:
        """True when ``data[start:]`` (raw record bytes) may hold the placeholder."""
        raw, b64 = self._raw_marks
        return data.find(raw, start) >= 0 or data.find(b64, start) >= 0

    def mark(self, row: Row | None) -> None:
        """Replace placeholder values in ``row`` with UNCHANGED, in place."""
        if row is None or type(row) is not dict:
            return
        forms = self._forms
        for column, value in row.items():
            kind = type(value)
            if kind is str or kind is bytes:
                if value in forms:
                    row[column] = UNCHANGED
            elif kind is list and len(value) == 1:
                item = value[0]
                if type(item) in (str, bytes) and item in forms:
                    row[column] = UNCHANGED
