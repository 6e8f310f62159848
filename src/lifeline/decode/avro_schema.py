"""Avro schemas as Kafka Connect's AvroConverter writes them.

Connect records each field's Connect schema in Avro properties
(``connect.name``, ``connect.parameters``). :func:`connect_schema` turns an
Avro schema back into the Connect notation row plans are built from, so
Avro and JSON records share one set of converters. :func:`without_logical_types`
removes ``logicalType`` so that fastavro hands over the raw encoded values
(it would otherwise turn the unavailable-value placeholder of a decimal
column into a number) and the shared converters do the typing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PRIMITIVES = {
    "int": "int32",
    "long": "int64",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "string": "string",
    "bytes": "bytes",
    "fixed": "bytes",
    "enum": "string",
}

# Plain Avro logical types, for schemas written by other producers.
_LOGICAL = {
    "date": "org.apache.kafka.connect.data.Date",
    "time-millis": "org.apache.kafka.connect.data.Time",
    "time-micros": "io.debezium.time.MicroTime",
    "timestamp-millis": "org.apache.kafka.connect.data.Timestamp",
    "timestamp-micros": "io.debezium.time.MicroTimestamp",
    "uuid": "io.debezium.data.Uuid",
    "decimal": "org.apache.kafka.connect.data.Decimal",
}


def without_logical_types(schema: Any) -> Any:
    """A copy of ``schema`` with every ``logicalType`` property removed."""
    if isinstance(schema, list):
        return [without_logical_types(item) for item in schema]
    if isinstance(schema, Mapping):
        return {
            key: without_logical_types(value)
            for key, value in schema.items()
            if key != "logicalType"
        }
    return schema


def connect_schema(schema: Any, named: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Connect-notation schema of an Avro schema (see the module doc).

    ``named`` collects named types as they are defined, so later references
    by name resolve (Debezium's ``before`` and ``after`` share one record).
    """
    names = {} if named is None else named
    if isinstance(schema, str):
        if schema in names:
            known: dict[str, Any] = names[schema]
            return known
        return {"type": _PRIMITIVES.get(schema, schema)}
    if isinstance(schema, list):
        branches = [item for item in schema if item != "null"]
        if len(branches) == 1:
            return {**connect_schema(branches[0], names), "optional": True}
        return {"type": "union"}
    if not isinstance(schema, Mapping):
        return {"type": "unknown"}
    return _complex(schema, names)


def _complex(schema: Mapping[str, Any], names: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, list | Mapping):
        return connect_schema(kind, names)
    result: dict[str, Any] = {"type": _PRIMITIVES.get(str(kind), kind)}
    if kind == "record":
        result["type"] = "struct"
        _remember(schema, result, names)
        result["fields"] = [
            {**connect_schema(field.get("type"), names), "field": field.get("name")}
            for field in schema.get("fields", ())
        ]
    elif kind == "array":
        result["items"] = connect_schema(schema.get("items"), names)
    elif kind == "map":
        result["values"] = connect_schema(schema.get("values"), names)
    elif kind in ("enum", "fixed"):
        _remember(schema, result, names)
    _semantics(schema, result)
    return result


def _remember(
    schema: Mapping[str, Any], result: dict[str, Any], names: dict[str, Any]
) -> None:
    name = schema.get("name")
    if isinstance(name, str):
        namespace = schema.get("namespace")
        names[name] = result
        if isinstance(namespace, str) and "." not in name:
            names[f"{namespace}.{name}"] = result


def _semantics(schema: Mapping[str, Any], result: dict[str, Any]) -> None:
    """Copy Connect's semantic name and parameters onto ``result``."""
    name = schema.get("connect.name")
    params = schema.get("connect.parameters")
    logical = schema.get("logicalType")
    if isinstance(name, str):
        result["name"] = name
    elif isinstance(logical, str) and logical in _LOGICAL:
        result["name"] = _LOGICAL[logical]
    if isinstance(params, Mapping):
        result["parameters"] = dict(params)
    elif logical == "decimal":
        result["parameters"] = {"scale": str(schema.get("scale", 0))}
