"""BACKWARD compatibility of two schema versions, checked with fastavro.

A new version is backward compatible with an old one when data written with
the old schema reads with the new one as reader schema. Two checks:

* every field the new version adds to a record has a default (so old data,
  which lacks it, can be read) - checked on the schema text;
* generated data written with the old schema reads with fastavro's schema
  resolution into the new one - catches type changes, removed enum symbols,
  renamed records and the rest of the resolution rules;
* a field keeps its logical types: resolution looks at the underlying type
  only, so a decimal whose scale changes would read, silently wrong.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.utils import generate_many


def records_by_name(schema: Any, namespace: str = "") -> dict[str, dict[str, Any]]:
    """Every record in ``schema`` by full name."""
    if isinstance(schema, list):
        return {
            name: record
            for branch in schema
            for name, record in records_by_name(branch, namespace).items()
        }
    if not isinstance(schema, Mapping):
        return {}
    if schema["type"] == "array":
        return records_by_name(schema["items"], namespace)
    if schema["type"] != "record":
        return {}
    namespace = schema.get("namespace", namespace)
    found = {f"{namespace}.{schema['name']}": dict(schema)}
    for field in schema["fields"]:
        found |= records_by_name(field["type"], namespace)
    return found


def new_fields_without_default(old: Any, new: Any) -> list[str]:
    """``record.field`` of each field ``new`` adds without a default."""
    before = records_by_name(old)
    problems = []
    for name, record in records_by_name(new).items():
        if name not in before:
            continue
        known = {field["name"] for field in before[name]["fields"]}
        for field in record["fields"]:
            names = {field["name"], *field.get("aliases", ())}
            if not names & known and "default" not in field:
                problems.append(f"{name}.{field['name']}: new field without a default")
    return problems


def _logical(schema: Any) -> set[tuple[Any, ...]]:
    """Logical types in a field's type, not descending into records."""
    if isinstance(schema, list):
        return {found for branch in schema for found in _logical(branch)}
    if not isinstance(schema, Mapping) or schema["type"] == "record":
        return set()
    if schema["type"] == "array":
        return _logical(schema["items"])
    if "logicalType" not in schema:
        return set()
    keys = ("type", "logicalType", "precision", "scale", "size")
    return {tuple(schema.get(key) for key in keys)}


def changed_logical_types(old: Any, new: Any) -> list[str]:
    """``record.field`` of each field whose logical types changed."""
    before = records_by_name(old)
    problems = []
    for name, record in records_by_name(new).items():
        old_fields = {f["name"]: f for f in before.get(name, {}).get("fields", ())}
        for field in record["fields"]:
            if field["name"] in old_fields and not _logical(
                old_fields[field["name"]]["type"]
            ) <= _logical(field["type"]):
                problems.append(f"{name}.{field['name']}: logical type changed")
    return problems


def unreadable_data(old: Any, new: Any, samples: int = 200, seed: int = 0) -> list[str]:
    """Why data written with ``old`` does not read with ``new`` (empty: it does)."""
    writer = parse_schema(old, named_schemas={})
    reader = parse_schema(new, named_schemas={})
    state = random.getstate()
    random.seed(seed)
    try:
        data = list(generate_many(old, samples))
    finally:
        random.setstate(state)
    for record in data:
        buffer = BytesIO()
        schemaless_writer(buffer, writer, record)
        buffer.seek(0)
        try:
            schemaless_reader(buffer, writer, reader)
        except Exception as exc:  # any failure to resolve is the finding
            return [f"old data does not read: {type(exc).__name__}: {exc}"]
    return []


def backward_problems(old: Any, new: Any) -> list[str]:
    """Every reason ``new`` cannot read data written with ``old``."""
    return (
        new_fields_without_default(old, new)
        + changed_logical_types(old, new)
        + unreadable_data(old, new)
    )
