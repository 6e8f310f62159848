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
        stale = 0
        for name, value in values.items():
            slots = state.get(name)
            if slots is None:
                slots = state[name] = {}
            previous = slots.get(system)
            if previous is not None and position <= previous.position:
                stale += 1
                continue
            sourced = Sourced(value, position)
            self._apply_value(name, slots, system, sourced, changes, conflicts)
        return Applied(tuple(changes), tuple(conflicts), stale)

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
        if system in self._rank[name]:
            slots[system] = sourced
            after = self._winner(name, slots)
            self._note_change(name, before, after, changes)
            reason = LOWER_PRIORITY
        else:
            after = before
            reason = NOT_A_SOURCE
        value = sourced.value
        if value is None or (
            after is not None and (after[0] == system or after[1].value == value)
        ):
            return
        owner = self.owner(name) if after is None else after[0]
        conflicts.append(Conflict(name, system, self._digest(value), owner, reason))

    def golden(self, state: FieldSources) -> dict[str, Any]:
        """Every golden field's value (None where no system has one)."""
        values: dict[str, Any] = {}
        for name in self._order:
            winner = self._winner(name, state.get(name, {}))
            values[name] = None if winner is None else winner[1].value
        return values

    def provenance(self, state: FieldSources) -> dict[str, Provenance]:
        """Where each golden field with a value got it from."""
        sources: dict[str, Provenance] = {}
        for name in self._order:
            winner = self._winner(name, state.get(name, {}))
            if winner is not None:
                sources[name] = Provenance(winner[0], winner[1].position)
        return sources

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
