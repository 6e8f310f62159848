"""Source-of-truth rules: which system's value each golden field takes.

``config/ownership.yaml`` lists, per golden field, the systems that may
supply it in priority order: the first is the field's *owner*, the rest are
fallbacks. It also maps source tables' columns to golden fields. The file is
validated once at start (:func:`load_ownership`); a mistake stops Lifeline
with a :class:`~lifeline.errors.FatalError` naming the file, the field and
the problem.

The applier keeps, per golden record and field, the latest value each listed
system sent, with its position (:data:`FieldSources`). The golden value of a
field is the value of the highest-priority system whose latest value is not
null. Hence:

* the owner's value wins over every other;
* a lower-priority system never replaces a value from a higher-priority one;
  when it sends a different value it is kept aside (for fallback) and
  reported as a :class:`Conflict`;
* a fallback fills the field only while no higher-priority system has a value;
* a null or delete from the owner falls back to the next system's value;
* a system not listed for a field never supplies it (a differing value is a
  :class:`Conflict` too).

Positions are compared as strings (:meth:`SourcePosition.encode`) within
one system: a change not newer than the last one applied for that system
and field is stale and ignored, so replays are harmless. A golden record
with several source records of one system takes the latest of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

from lifeline.decode.change import UNCHANGED
from lifeline.golden.ownership_config import OwnershipConfig, load_ownership_config

LOWER_PRIORITY: Final = "lower_priority"
"""Conflict reason: a higher-priority system's value stands."""
NOT_A_SOURCE: Final = "not_a_source"
"""Conflict reason: the system is not listed for the field at all."""


class Sourced(NamedTuple):
    """The latest value one system sent for a field, and its position."""

    value: Any
    position: str


class Provenance(NamedTuple):
    """Where a golden value came from."""

    system: str
    position: str


FieldSources = dict[str, dict[str, Sourced]]
"""A golden record's state: field -> system -> latest :class:`Sourced`."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A golden field's value changed; ``source`` None: no value is left."""

    field: str
    old: Any = dataclasses.field(repr=False)
    new: Any = dataclasses.field(repr=False)
    source: Provenance | None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A value ``system`` sent for ``field`` lost to ``owner``'s value.

    ``rejected`` is a keyed BLAKE2b digest of the value (``b2:`` + 16 hex),
    never the value: equal values have equal digests, so repeated conflicts
    can be counted, but low-entropy values are guessable from it unless a
    secret key is configured. ``owner`` is the system whose value stands
    (the field's owner when no value stands).
    """

    field: str
    system: str
    rejected: str
    owner: str
    reason: str


@dataclass(frozen=True, slots=True)
class Applied:
    """What one :meth:`OwnershipRules.apply` call did.

    ``stale`` counts values ignored because their position was not newer.
    """

    changes: tuple[FieldChange, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    stale: int = 0

    @property
    def changed_fields(self) -> tuple[str, ...]:
        """The names of the changed fields, for ``CustomerUpdated``."""
        return tuple(change.field for change in self.changes)


class OwnershipRules:
    """A validated ownership configuration, ready to apply.

    Thread-safe: it holds no state; callers own their :data:`FieldSources`.
    """

    __slots__ = ("_columns", "_hash_key", "_order", "_rank", "config")

    def __init__(self, config: OwnershipConfig, hash_key: bytes = b"") -> None:
        self.config = config
        self._order = dict(config.fields)
        self._rank = {
            name: {system: rank for rank, system in enumerate(systems)}
            for name, systems in config.fields.items()
        }
        self._columns = {
            tuple(source.split(".", 1)): dict(columns)
            for source, columns in config.sources.items()
        }
        self._hash_key = hash_key[:64]

    def order(self, name: str) -> tuple[str, ...]:
        """The systems that may supply field ``name``, owner first."""
        return self._order[name]

    def owner(self, name: str) -> str:
        """The system that owns field ``name``."""
        return self._order[name][0]

    def candidates(
        self, system: str, table: str, row: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """The golden fields a source row supplies; None: table not mapped.

        ``row`` None (the row was deleted) makes every mapped field null.
        Columns missing from the row or left :data:`UNCHANGED` are left out.
        """
        columns = self._columns.get((system, table))
        if columns is None:
            return None
        if row is None:
            return dict.fromkeys(columns)
        values: dict[str, Any] = {}
        for name, column in columns.items():
            value = row.get(column, UNCHANGED)
            if value is not UNCHANGED:
                values[name] = value
        return values

    def apply(
        self,
        state: FieldSources,
        system: str,
        position: str,
        values: Mapping[str, Any],
    ) -> Applied:
        """Apply one source change's field ``values`` to ``state`` in place.

        A None value is a null from ``system``. Raises ``KeyError`` for a
        field that is not a golden field (a mapping bug, not bad data).
        """
        changes: list[FieldChange] = []
        conflicts: list[Conflict] = []
        fresh = _newer_values(state, system, position, values)
        for name, slots, value in fresh:
            sourced = Sourced(value, position)
            self._apply_value(name, slots, system, sourced, changes, conflicts)
        return Applied(tuple(changes), tuple(conflicts), len(values) - len(fresh))

    def fold(
        self,
        state: FieldSources,
        system: str,
        position: str,
        values: Mapping[str, Any],
        conflicts: list[Conflict] | None = None,
    ) -> None:
        """Apply ``values`` to ``state`` like :meth:`apply`, without changes.

        For rebuilding a record from its members, where only the resulting
        state counts: the same slots change and, when ``conflicts`` is
        given, the same conflicts are appended to it, without the work of
        finding which golden values changed.
        """
        for name, slots, value in _newer_values(state, system, position, values):
            listed = system in self._rank[name]
            if listed:
                slots[system] = Sourced(value, position)
            if conflicts is not None and value is not None:
                self._check_conflict(name, slots, system, value, listed, conflicts)

    def _apply_value(
        self,
        name: str,
        slots: dict[str, Sourced],
        system: str,
        sourced: Sourced,
        changes: list[FieldChange],
        conflicts: list[Conflict],
    ) -> None:
        before = self._winner(name, slots)
        listed = system in self._rank[name]
        if listed:
            slots[system] = sourced
            self._note_change(name, before, self._winner(name, slots), changes)
        if sourced.value is not None:
            self._check_conflict(name, slots, system, sourced.value, listed, conflicts)

    def _check_conflict(
        self,
        name: str,
        slots: Mapping[str, Sourced],
        system: str,
        value: Any,
        listed: bool,
        conflicts: list[Conflict],
    ) -> None:
        """A conflict when ``system``'s non-null ``value`` does not stand.

        ``slots`` already hold the value if ``system`` is ``listed``.
        """
        winner = self._winner(name, slots)
        if winner is not None and (winner[0] == system or winner[1].value == value):
            return
        owner = self.owner(name) if winner is None else winner[0]
        reason = LOWER_PRIORITY if listed else NOT_A_SOURCE
        conflicts.append(Conflict(name, system, self._digest(value), owner, reason))

    def golden(self, state: FieldSources) -> dict[str, Any]:
        """Every golden field's value (None where no system has one)."""
        return self.resolved(state)[0]

    def provenance(self, state: FieldSources) -> dict[str, Provenance]:
        """Where each golden field with a value got it from."""
        return self.resolved(state)[1]

    def resolved(
        self, state: FieldSources
    ) -> tuple[dict[str, Any], dict[str, Provenance]]:
        """:meth:`golden` and :meth:`provenance` of ``state`` in one pass."""
        values: dict[str, Any] = {}
        sources: dict[str, Provenance] = {}
        for name, order in self._order.items():
            values[name] = None
            slots = state.get(name)
            if not slots:
                continue
            for system in order:
                sourced = slots.get(system)
                if sourced is not None and sourced.value is not None:
                    values[name] = sourced.value
                    sources[name] = Provenance(system, sourced.position)
                    break
        return values, sources

    def _winner(
        self, name: str, slots: Mapping[str, Sourced]
    ) -> tuple[str, Sourced] | None:
        for system in self._order[name]:
            sourced = slots.get(system)
            if sourced is not None and sourced.value is not None:
                return system, sourced
        return None

    @staticmethod
    def _note_change(
        name: str,
        before: tuple[str, Sourced] | None,
        after: tuple[str, Sourced] | None,
        changes: list[FieldChange],
    ) -> None:
        old = None if before is None else before[1].value
        new = None if after is None else after[1].value
        if old != new:
            source = None if after is None else Provenance(after[0], after[1].position)
            changes.append(FieldChange(name, old, new, source))

    def _digest(self, value: Any) -> str:
        digest = hashlib.blake2b(
            str(value).encode(), digest_size=8, key=self._hash_key
        ).hexdigest()
        return "b2:" + digest


def combine(into: FieldSources, other: FieldSources) -> FieldSources:
    """Fold ``other`` into ``into`` (in place), newer position per slot wins.

    For a merge of golden records: the survivor's state takes every
    system's latest value from the absorbed records.
    """
    for name, slots in other.items():
        target = into.setdefault(name, {})
        for system, sourced in slots.items():
            current = target.get(system)
            if current is None or current.position < sourced.position:
                target[system] = sourced
    return into


def load_ownership(path: Path, hash_key: bytes = b"") -> OwnershipRules:
    """Read, validate and prepare ``config/ownership.yaml``.

    Raises :class:`~lifeline.errors.FatalError` naming the file, the field
    and the problem.
    """
    return OwnershipRules(load_ownership_config(path), hash_key)


def _newer_values(
    state: FieldSources, system: str, position: str, values: Mapping[str, Any]
) -> list[tuple[str, dict[str, Sourced], Any]]:
    """``(field, its slots, value)`` of ``values`` newer than what ``system`` set.

    Creates the slots of fields not seen yet; a value at or before the
    position ``system`` last set that field at is left out (stale).
    """
    fresh = []
    for name, value in values.items():
        slots = state.get(name)
        if slots is None:
            slots = state[name] = {}
        previous = slots.get(system)
        if previous is None or position > previous.position:
            fresh.append((name, slots, value))
    return fresh
