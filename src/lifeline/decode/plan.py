"""Row plans: the converters of one struct schema, prepared once per schema.

Schemas are Kafka Connect schemas in JsonConverter's notation (``type``,
``name``, ``parameters``, ``fields``, ``items``, ``values``); Avro schemas are
translated to it first (:mod:`lifeline.decode.avro_schema`). Two modes differ
in what the converter delivered: JSON sends bytes as base64 text and numbers
untyped, so every column is type-checked; Avro values come typed from
fastavro, so only semantic types are converted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lifeline.decode import types as t
from lifeline.decode.change import UNCHANGED, Row
from lifeline.errors import RecordError

Converter = t.Converter
Factory = Callable[[Mapping[str, Any], "Mode"], Converter]


@dataclass(frozen=True, slots=True)
class Mode:
    """What the converter delivers: JSON (base64, untyped) or Avro (typed)."""

    name: str
    to_bytes: Converter
    check: bool


JSON = Mode("json", t.b64_bytes, check=True)
AVRO = Mode("avro", t.raw_bytes, check=False)


IntCheck = tuple[str, int, int]
"""An integer column checked in place: name and bounds."""


@dataclass(frozen=True, slots=True)
class RowPlan:
    """How to check and convert the columns of one struct.

    ``int_checks`` and ``type_checks`` are plain columns whose JSON value is
    only checked (integer range, or exact type); ``converters`` turn the
    other columns into typed values.
    """

    converters: tuple[tuple[str, Converter], ...]
    names: frozenset[str]
    check_names: bool
    int_checks: tuple[IntCheck, ...] = ()
    type_checks: tuple[tuple[str, type], ...] = ()

    def apply(self, row: Any, part: str) -> Row:
        """Convert ``row`` in place; RecordError ``schema_mismatch`` if it lies.

        ``part`` names the row in reasons (``before``, ``after``, ``key``).
        Values that are None or :data:`UNCHANGED` are left as they are.
        """
        if type(row) is not dict:
            raise RecordError("schema_mismatch", f"{part} is not a struct")
        get = row.get
        for column, low, high in self.int_checks:
            value = get(column)
            if value is None or (type(value) is int and low <= value <= high):
                continue
            if value is not UNCHANGED:
                raise _mismatch(part, column)
        for column, kind in self.type_checks:
            value = get(column)
            if value is not None and type(value) is not kind and value is not UNCHANGED:
                raise _mismatch(part, column)
        for column, convert in self.converters:
            value = get(column)
            if value is not None and value is not UNCHANGED:
                try:
                    row[column] = convert(value)
                except OverflowError as exc:
                    reason = (
                        f"{part} column '{column}' is out of the representable range"
                    )
                    raise RecordError("out_of_range", reason) from exc
                except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                    raise _mismatch(part, column) from exc
        if self.check_names and len(row) != len(self.names):
            self._check_names(row, part)
        return row

    def _check_names(self, row: Row, part: str) -> None:
        unknown = [name for name in row if name not in self.names]
        if unknown:
            reason = f"{part} has {len(unknown)} column(s) its schema lacks"
            raise RecordError("schema_mismatch", reason)


def _mismatch(part: str, column: str) -> RecordError:
    reason = f"{part} column '{column}' does not match its schema"
    return RecordError("schema_mismatch", reason)


EMPTY_PLAN = RowPlan((), frozenset(), check_names=False)

_INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
_TYPES: dict[str, type] = {"string": str, "boolean": bool}


def struct_plan(schema: Any, mode: Mode) -> RowPlan:
    """The plan of a struct schema; EMPTY_PLAN when ``schema`` is no struct."""
    if not isinstance(schema, Mapping) or schema.get("type") != "struct":
        return EMPTY_PLAN
    fields = [f for f in schema.get("fields", ()) if isinstance(f, Mapping)]
    ints: list[IntCheck] = []
    types: list[tuple[str, type]] = []
    converters: list[tuple[str, Converter]] = []
    for field in fields:
        column, kind = str(field.get("field")), str(field.get("type"))
        plain = mode.check and field.get("name") is None
        if plain and kind in _INT_BITS:
            bound = 1 << (_INT_BITS[kind] - 1)
            ints.append((column, -bound, bound - 1))
        elif plain and kind in _TYPES:
            types.append((column, _TYPES[kind]))
        elif (convert := converter_for(field, mode)) is not None:
            converters.append((column, convert))
    names = frozenset(str(field.get("field")) for field in fields)
    return RowPlan(tuple(converters), names, mode.check, tuple(ints), tuple(types))


def envelope_field(schema: Any, name: str) -> Any:
    """The schema of one field of an envelope struct, or None."""
    if isinstance(schema, Mapping):
        for field in schema.get("fields", ()):
            if isinstance(field, Mapping) and field.get("field") == name:
                return field
    return None


def converter_for(field: Mapping[str, Any], mode: Mode) -> Converter | None:
    """The converter of one field's schema, or None when values pass as sent."""
    name = field.get("name")
    if isinstance(name, str):
        factory = _SEMANTIC.get(name)
        if factory is not None:
            return factory(field, mode)
    kind = field.get("type")
    if kind == "array":
        return _array(field, mode)
    if kind == "map":
        return _map(field, mode)
    if kind == "struct":
        return _struct(field, mode)
    if kind == "bytes":
        return mode.to_bytes if mode.check else None
    return _PRIMITIVE_CHECKS.get(str(kind)) if mode.check else None


def _array(field: Mapping[str, Any], mode: Mode) -> Converter | None:
    items = field.get("items")
    item = converter_for(items, mode) if isinstance(items, Mapping) else None
    if item is None and not mode.check:
        return None

    def convert(value: Any) -> list[Any]:
        if type(value) is not list:
            raise TypeError("expected an array")
        if item is None:
            return value
        return [None if v is None else item(v) for v in value]

    return convert


def _map(field: Mapping[str, Any], mode: Mode) -> Converter | None:
    values = field.get("values")
    keys = field.get("keys")
    value_conv = converter_for(values, mode) if isinstance(values, Mapping) else None
    key_conv = converter_for(keys, mode) if isinstance(keys, Mapping) else None
    if value_conv is None and key_conv is None and not mode.check:
        return None

    def one(convert: Converter | None, value: Any) -> Any:
        return value if convert is None or value is None else convert(value)

    def convert(value: Any) -> dict[Any, Any]:
        # JsonConverter writes string-keyed maps as objects, others as pairs.
        if type(value) is dict:
            pairs: Any = value.items()
        elif type(value) is list:
            pairs = value
        else:
            raise TypeError("expected a map")
        return {one(key_conv, k): one(value_conv, v) for k, v in pairs}

    return convert


def _struct(field: Mapping[str, Any], mode: Mode) -> Converter | None:
    plan = struct_plan(field, mode)
    if not plan.converters and not mode.check:
        return None
    label = str(field.get("field", "struct"))

    def convert(value: Any) -> Row:
        return plan.apply(value, label)

    return convert


def _param(field: Mapping[str, Any], name: str) -> str | None:
    params = field.get("parameters")
    value = params.get(name) if isinstance(params, Mapping) else None
    return None if value is None else str(value)


def _decimal(field: Mapping[str, Any], mode: Mode) -> Converter:
    scale = _param(field, "scale")
    return t.decimal_converter(int(scale or 0), mode.to_bytes)


def _bits(field: Mapping[str, Any], mode: Mode) -> Converter:
    length = _param(field, "length")
    return t.bits_converter(None if length is None else int(length), mode.to_bytes)


def _fixed(convert: Converter) -> Factory:
    def factory(field: Mapping[str, Any], mode: Mode) -> Converter:
        return convert

    return factory


_SEMANTIC: dict[str, Factory] = {
    "org.apache.kafka.connect.data.Decimal": _decimal,
    "io.debezium.data.VariableScaleDecimal": lambda f, m: t.variable_decimal_converter(
        m.to_bytes
    ),
    "io.debezium.data.Bits": _bits,
    "io.debezium.time.Date": _fixed(t.epoch_days),
    "org.apache.kafka.connect.data.Date": _fixed(t.epoch_days),
    "io.debezium.time.Timestamp": _fixed(t.epoch_timestamp(1_000)),
    "org.apache.kafka.connect.data.Timestamp": _fixed(t.epoch_timestamp(1_000)),
    "io.debezium.time.MicroTimestamp": _fixed(t.epoch_timestamp(1_000_000)),
    "io.debezium.time.NanoTimestamp": _fixed(t.epoch_timestamp(1_000_000_000)),
    "io.debezium.time.ZonedTimestamp": _fixed(t.zoned_timestamp),
    "io.debezium.time.Time": _fixed(t.time_of_day(1_000)),
    "org.apache.kafka.connect.data.Time": _fixed(t.time_of_day(1_000)),
    "io.debezium.time.MicroTime": _fixed(t.time_of_day(1_000_000)),
    "io.debezium.time.NanoTime": _fixed(t.time_of_day(1_000_000_000)),
    "io.debezium.time.ZonedTime": _fixed(t.zoned_time),
    "io.debezium.time.MicroDuration": _fixed(t.duration(1_000_000)),
    "io.debezium.time.NanoDuration": _fixed(t.duration(1_000_000_000)),
    "io.debezium.time.IsoDate": _fixed(t.iso_date),
    "io.debezium.time.IsoTime": _fixed(t.iso_time),
    "io.debezium.time.IsoTimestamp": _fixed(t.iso_timestamp),
    "io.debezium.data.Json": _fixed(t.json_value),
    "io.debezium.data.Uuid": _fixed(t.uuid_value),
    "io.debezium.data.EnumSet": _fixed(t.enum_set),
}

_PRIMITIVE_CHECKS: dict[str, Converter] = {
    "int8": t.int_range(8),
    "int16": t.int_range(16),
    "int32": t.int_range(32),
    "int64": t.int_range(64),
    "float": t.json_float,
    "float32": t.json_float,
    "double": t.json_float,
    "float64": t.json_float,
    "boolean": t.checked(bool),
    "string": t.checked(str),
}
