"""The event schemas on disk, parsed once: current versions and history.

Layout of ``schemas/avro/``:

* ``<Event>.avsc`` - the current schema of each event; its top-level
  ``"version"`` (a positive integer, ignored by Avro) is its release.
* ``history/<Event>.v<N>.avsc`` - every released version, the current one
  included. A released version never changes; a change is a new version,
  which must read data written with every earlier one (BACKWARD,
  transitively).

Each schema is known by its CRC-64-AVRO fingerprint of the parsing
canonical form, the 8 bytes single-object encoding carries (little-endian).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.schema import SchemaParseException, parse_schema
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form as canonical_form

from lifeline.errors import FatalError
from lifeline.events.models import EVENT_MODELS, NAMESPACE, LifecycleEvent

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas" / "avro"
"""``schemas/avro`` of the checkout this package runs from."""

_HISTORY_NAME = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>\d+)$")


@dataclass(frozen=True, slots=True)
class EventSchema:
    """One version of one event's schema.

    ``definition`` is the JSON as written (docs, defaults, ``version``);
    ``parsed`` is fastavro's parsed form; ``fingerprint`` the 8-byte
    CRC-64-AVRO fingerprint, little-endian.
    """

    name: str
    version: int
    definition: Mapping[str, Any]
    parsed: Any
    fingerprint: bytes
    model: type[LifecycleEvent]

    @property
    def full_name(self) -> str:
        """The Avro full name, e.g. ``io.lifeline.events.OrderPlaced``."""
        return f"{NAMESPACE}.{self.name}"


def schema_fingerprint(parsed: Any) -> bytes:
    """The CRC-64-AVRO fingerprint of a parsed schema, little-endian bytes."""
    return bytes.fromhex(_fingerprint(canonical_form(parsed), "CRC-64-AVRO"))


def parse_event_schema(definition: Any, origin: str) -> EventSchema:
    """Parse and check one event schema; ``origin`` names it in errors.

    Raises :class:`FatalError` when it is not an event record of the
    ``io.lifeline.events`` namespace with a positive ``version``.
    """
    if not isinstance(definition, dict) or definition.get("type") != "record":
        msg = f"event schema {origin}: expected an Avro record"
        raise FatalError(msg)
    name = definition.get("name")
    version = definition.get("version")
    if definition.get("namespace") != NAMESPACE or name not in EVENT_MODELS:
        msg = f"event schema {origin}: not an event of namespace {NAMESPACE}"
        raise FatalError(msg)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        msg = f"event schema {origin}: 'version' must be a positive integer"
        raise FatalError(msg)
    try:
        parsed = parse_schema(definition, named_schemas={})
    except (SchemaParseException, ValueError, TypeError, KeyError) as exc:
        msg = f"event schema {origin}: invalid Avro: {exc}"
        raise FatalError(msg) from exc
    return EventSchema(
        name, version, definition, parsed, schema_fingerprint(parsed),
        EVENT_MODELS[name],
    )  # fmt: skip


def _read(path: Path) -> EventSchema:
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"event schema {path}: cannot read it: {exc}"
        raise FatalError(msg) from exc
    return parse_event_schema(definition, str(path))


class EventSchemas:
    """Every event's current schema and released versions, looked up fast."""

    __slots__ = ("_by_fingerprint", "_current", "_history")

    def __init__(
        self,
        current: Mapping[str, EventSchema],
        history: Mapping[str, tuple[EventSchema, ...]],
    ) -> None:
        self._current = dict(current)
        self._history = dict(history)
        self._by_fingerprint = {
            schema.fingerprint: schema
            for versions in self._history.values()
            for schema in versions
        }
        for schema in self._current.values():
            self._by_fingerprint[schema.fingerprint] = schema

    @classmethod
    def load(cls, directory: Path = SCHEMA_DIR) -> EventSchemas:
        """Read ``directory``; raises :class:`FatalError` naming a bad file.

        Every event model must have a current schema named after it, and each
        history file's name must match its record name and version.
        """
        current = {path.stem: _read(path) for path in sorted(directory.glob("*.avsc"))}
        for stem, schema in current.items():
            if stem != schema.name:
                msg = f"event schema {directory / stem}.avsc: holds {schema.name}"
                raise FatalError(msg)
        missing = sorted(set(EVENT_MODELS) - set(current))
        if missing:
            msg = f"event schemas {directory}: no schema for {', '.join(missing)}"
            raise FatalError(msg)
        return cls(current, _load_history(directory / "history"))

    def current(self, name: str) -> EventSchema:
        """The current schema of event type ``name`` (KeyError if unknown)."""
        return self._current[name]

    def history(self, name: str) -> tuple[EventSchema, ...]:
        """Released versions of ``name``, oldest first (may be empty)."""
        return self._history.get(name, ())

    def names(self) -> tuple[str, ...]:
        """Every event type with a current schema."""
        return tuple(self._current)

    def by_fingerprint(self, value: bytes) -> EventSchema | None:
        """The schema, current or released, with this 8-byte fingerprint."""
        return self._by_fingerprint.get(value)


def _load_history(directory: Path) -> dict[str, tuple[EventSchema, ...]]:
    history: dict[str, list[EventSchema]] = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = _read(path)
        match = _HISTORY_NAME.match(path.stem)
        if match is None or (match["name"], int(match["version"])) != (
            schema.name,
            schema.version,
        ):
            msg = f"event schema {path}: name it <Event>.v<version>.avsc"
            raise FatalError(msg)
        history.setdefault(schema.name, []).append(schema)
    return {
        name: tuple(sorted(versions, key=lambda s: s.version))
        for name, versions in history.items()
    }
