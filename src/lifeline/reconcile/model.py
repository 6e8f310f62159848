"""What reconciliation compares: source tables, their ids and owned fields.

A :class:`ReconcileTable` is a party table of a source database (one source
row is one source record, ``<system>:<id>``, a member of a golden record)
with the columns the ownership rules map to golden fields. Its
:class:`OwnedField` list says which golden fields a row of the table is
checked on: those whose effective owner is the table's system. The
effective owner of a field is the first system of its priority list that
some captured table supplies (``billing_email: [billing, erp]`` is the
ERP's while no billing table is captured).

A null from the effective owner makes the golden record fall back to the
next system; only when no other captured system may supply the field is
the golden value then known (null), so ``null_means_null`` tells whether a
null source value is compared or skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lifeline.golden.ownership import OwnershipRules
from lifeline.join.parties import PartyModel, PartyTable


class Engine(Enum):
    """The database a source table lives in."""

    MARIADB = "mariadb"
    POSTGRES = "postgres"


@dataclass(frozen=True, slots=True)
class OwnedField:
    """A golden field a table's rows are checked on, and its column."""

    name: str
    column: str
    null_means_null: bool


@dataclass(frozen=True, slots=True)
class ReconcileTable:
    """One source table, as reconciliation reads it.

    ``columns`` maps golden fields to the table's columns (the ownership
    file's ``sources`` entry); ``updated_column`` is a timestamp the
    application moves on every change (None: the table has none, so the
    grace period cannot apply to it).
    """

    system: str
    table: str
    engine: Engine
    id_column: str
    columns: tuple[tuple[str, str], ...]
    owned: tuple[OwnedField, ...]
    updated_column: str | None = None

    @property
    def name(self) -> str:
        """``<system>.<table>``, as reports name it."""
        return f"{self.system}.{self.table}"

    def source_id(self, row_id: object) -> str:
        """The source id of a row id: ``<system>:<id>``."""
        return f"{self.system}:{row_id}"

    def selected_columns(self) -> tuple[str, ...]:
        """The mapped columns, each once, in mapping order."""
        return tuple(dict.fromkeys(column for _, column in self.columns))


def owned_fields(
    rules: OwnershipRules, system: str, table: str
) -> tuple[OwnedField, ...]:
    """The golden fields rows of ``system.table`` are checked on."""
    mapped = rules.config.sources.get(f"{system}.{table}", {})
    captured = {source.split(".", 1)[0] for source in rules.config.sources}
    owned = []
    for name, column in mapped.items():
        suppliers = [s for s in rules.order(name) if s in captured]
        if suppliers and suppliers[0] == system:
            owned.append(OwnedField(name, column, len(suppliers) == 1))
    return tuple(owned)


def reconcile_table(
    rules: OwnershipRules,
    party: PartyTable,
    engine: Engine,
    updated_column: str | None,
) -> ReconcileTable:
    """The reconciliation view of one party table."""
    mapped = rules.config.sources.get(f"{party.system}.{party.table}", {})
    return ReconcileTable(
        system=party.system,
        table=party.table,
        engine=engine,
        id_column=party.id_column,
        columns=tuple(mapped.items()),
        owned=owned_fields(rules, party.system, party.table),
        updated_column=updated_column,
    )


def sample_tables(
    rules: OwnershipRules, model: PartyModel, erp_system: str
) -> tuple[ReconcileTable, ...]:
    """The party tables of the sample schemas: ERP in MariaDB, the rest in PG.

    Both sample party tables keep an ``updated_at`` timestamp.
    """
    return tuple(
        reconcile_table(
            rules,
            party,
            Engine.MARIADB if party.system == erp_system else Engine.POSTGRES,
            "updated_at",
        )
        for party in model.parties
    )


@dataclass(frozen=True, slots=True)
class Scope:
    """The source ids a run judges: of the systems read, ids with a prefix.

    A run with a prefix (``--id-prefix``) reconciles a slice: the rows whose
    id starts with it and the cache entries naming such ids.
    """

    systems: frozenset[str]
    id_prefix: str = ""

    @property
    def whole(self) -> bool:
        """True when every id of the systems is in scope."""
        return not self.id_prefix

    def covers(self, source_id: str) -> bool:
        """Tell whether ``<system>:<id>`` is in scope."""
        system, colon, row_id = source_id.partition(":")
        return (
            bool(colon) and system in self.systems and row_id.startswith(self.id_prefix)
        )
