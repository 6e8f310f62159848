"""The pydantic models and the Avro schemas describe the same events."""

from __future__ import annotations

import types
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Union, get_args, get_origin
from uuid import UUID

import pytest
from pydantic import AwareDatetime, BaseModel, TypeAdapter, ValidationError

from lifeline.events import EVENT_MODELS, EventSchemas
from lifeline.events.models import NAMESPACE, Money

SCHEMAS = EventSchemas.load()
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 4}
TIMESTAMP = {"type": "long", "logicalType": "timestamp-millis"}
SCALARS: dict[Any, Any] = {
    str: "string",
    bool: "boolean",
    int: "long",
    Decimal: DECIMAL,
    UUID: {"type": "string", "logicalType": "uuid"},
    AwareDatetime: TIMESTAMP,
    datetime: TIMESTAMP,
    date: {"type": "int", "logicalType": "date"},
}


def expected(annotation: Any) -> Any:
    """The Avro type a model annotation must have (docs left out)."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in args if arg is not type(None)]
        return ["null", expected(inner)]
    if origin is tuple:
        assert args[1] is Ellipsis
        return {"type": "array", "items": expected(args[0])}
    if annotation in SCALARS:
        return SCALARS[annotation]
    if get_origin(annotation) is not None and args and args[0] in SCALARS:
        return SCALARS[args[0]]  # Annotated[Decimal, ...]
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        symbols = [member.value for member in annotation]
        return {"type": "enum", "name": annotation.__name__, "symbols": symbols}
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
    fields = [
        {"name": name, "type": expected(info.annotation)}
        for name, info in annotation.model_fields.items()
    ]
    return {"type": "record", "name": annotation.__name__, "fields": fields}


def normalised(schema: Any, names: dict[str, Any]) -> Any:
    """An Avro type without docs, defaults and namespaces; names resolved."""
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return schema
        return names[schema if "." in schema else f"{NAMESPACE}.{schema}"]
    if isinstance(schema, list):
        return [normalised(branch, names) for branch in schema]
    kind = schema["type"]
    if kind == "array":
        return {"type": "array", "items": normalised(schema["items"], names)}
    if kind == "enum":
        out = {"type": "enum", "name": schema["name"], "symbols": schema["symbols"]}
        names[f"{NAMESPACE}.{schema['name']}"] = out
        return out
    if kind == "record":
        out = {"type": "record", "name": schema["name"], "fields": []}
        names[f"{NAMESPACE}.{schema['name']}"] = out
        out["fields"] = [
            {"name": field["name"], "type": normalised(field["type"], names)}
            for field in schema["fields"]
        ]
        return out
    return {key: value for key, value in schema.items() if key != "doc"}


def records(schema: Any) -> list[dict[str, Any]]:
    """Every record definition inside ``schema``, outermost first."""
    if isinstance(schema, list):
        return [record for branch in schema for record in records(branch)]
    if not isinstance(schema, dict):
        return []
    if schema["type"] == "array":
        return records(schema["items"])
    if schema["type"] != "record":
        return []
    nested = [record for field in schema["fields"] for record in records(field["type"])]
    return [schema, *nested]


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_every_model_field_is_in_its_schema_with_the_same_type(name: str) -> None:
    schema = SCHEMAS.current(name).definition
    assert normalised(dict(schema), {}) == expected(EVENT_MODELS[name])


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_defaults_agree(name: str) -> None:
    models = {model.__name__: model for model in _models(EVENT_MODELS[name])}
    for record in records(dict(SCHEMAS.current(name).definition)):
        model_fields = models[record["name"]].model_fields
        for field in record["fields"]:
            info = model_fields[field["name"]]
            where = f"{record['name']}.{field['name']}"
            assert ("default" in field) == (not info.is_required()), where
            if "default" in field:
                assert field["default"] == info.default, where


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_every_schema_and_field_has_a_doc(name: str) -> None:
    for record in records(dict(SCHEMAS.current(name).definition)):
        assert record.get("doc"), record["name"]
        for field in record["fields"]:
            assert field.get("doc"), f"{record['name']}.{field['name']}"


def test_money_matches_the_decimal_precision_and_scale() -> None:
    money = TypeAdapter(Money)
    assert money.validate_python("99999999999999.9999") == Decimal(
        "99999999999999.9999"
    )
    for too_big in ("0.00001", "100000000000000"):
        with pytest.raises(ValidationError):
            money.validate_python(too_big)


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for info in model.model_fields.values():
        for arg in [info.annotation, *_flat_args(info.annotation)]:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                found += _models(arg)
    return found


def _flat_args(annotation: Any) -> list[Any]:
    args = list(get_args(annotation))
    return args + [inner for arg in args for inner in _flat_args(arg)]
