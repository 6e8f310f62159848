"""Small builders shared by the identity-resolution tests."""

from __future__ import annotations

from typing import Any

from lifeline.resolve import RecordKeys, SourceRecord


def make_record(ref: str, **fields: Any) -> SourceRecord:
    """A keyed record from ``system:id`` and its fields as keyword arguments."""
    system, _, id_ = ref.partition(":")
    return SourceRecord.from_fields(system, id_, fields)


def keys(ref: str, **fields: Any) -> RecordKeys:
    """Just the keys of :func:`make_record`."""
    return make_record(ref, **fields).keys
