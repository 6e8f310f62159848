"""What a PostgreSQL preflight reads from the server, in one read-only pass.

Everything here comes from catalogs and views any role may read, so the
role Debezium logs in as can check itself. Nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from lifeline.capture.signals import (
    PgSideState,
    SideTable,
    postgres_heartbeat_table,
    postgres_signal_table,
    postgres_state,
)
from lifeline.preflight.scope import Scope, select_tables

Connection = psycopg.Connection[tuple[Any, ...]]
SETTINGS = (
    "wal_level",
    "max_replication_slots",
    "max_wal_senders",
    "max_slot_wal_keep_size",
)
_USER_TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
"""
_TABLE_DETAILS = """
SELECT n.nspname, c.relname, c.relreplident,
  EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
  EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped AND a.attstorage IN ('x', 'e', 'm')),
  has_table_privilege(c.oid, 'SELECT'),
  has_schema_privilege(n.oid, 'USAGE')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
ORDER BY 1, 2
"""
_ROLE = """
SELECT current_user, r.rolsuper, r.rolreplication,
  EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication'
          AND pg_has_role(current_user, g.oid, 'MEMBER'))
FROM pg_roles r WHERE r.rolname = current_user
"""
_SLOTS = """
SELECT to_jsonb(s),
  pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                  ELSE pg_current_wal_lsn() END, s.restart_lsn)::bigint
FROM pg_replication_slots s ORDER BY s.slot_name
"""


@dataclass(frozen=True, slots=True)
class PgSetting:
    """A server setting and whether a changed value waits for a restart."""

    value: str
    pending_restart: bool = False


@dataclass(frozen=True, slots=True)
class PgTable:
    """One captured table: its replica identity and the role's rights on it."""

    schema: str
    name: str
    replica_identity: str  # d(efault), n(othing), f(ull), i(ndex)
    has_primary_key: bool
    toastable: bool  # has a column whose value may be stored out of line
    can_select: bool
    schema_usage: bool

    @property
    def qualified(self) -> str:
        """``schema.table``."""
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class PgSlot:
    """A replication slot and the WAL it keeps (bytes; None if not known)."""

    name: str
    plugin: str | None
    slot_type: str
    database: str | None
    active: bool
    retained_bytes: int | None
    wal_status: str | None  # PostgreSQL 13+: reserved, extended, unreserved, lost


@dataclass(frozen=True, slots=True)
class PgPublication:
    """A publication, what it publishes and its tables."""

    name: str
    all_tables: bool
    operations: frozenset[str]  # of insert, update, delete, truncate
    tables: frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class PostgresFacts:
    """Everything a PostgreSQL preflight decides on."""

    version_num: int
    version: str
    database: str
    role: str
    superuser: bool
    replication: bool  # REPLICATION attribute, or rds_replication membership
    settings: dict[str, PgSetting]
    active_senders: int
    tables: tuple[PgTable, ...]
    unmatched_patterns: tuple[str, ...]
    publication: PgPublication | None
    slots: tuple[PgSlot, ...]
    # The signal and heartbeat tables of the scope, and what they lack.
    side_tables: tuple[tuple[str, SideTable, PgSideState], ...] = ()


def gather(conn: Connection, scope: Scope) -> PostgresFacts:
    """Read every fact the checks need; raises psycopg.Error on failure."""
    version_num, version, database = _one(
        conn,
        "SELECT current_setting('server_version_num')::int, "
        "current_setting('server_version'), current_database()",
    )
    role, superuser, replication, rds = _one(conn, _ROLE)
    available = [(str(s), str(t)) for s, t in conn.execute(_USER_TABLES).fetchall()]
    selected, unmatched = select_tables(available, scope)
    return PostgresFacts(
        version_num=version_num,
        version=version,
        database=database,
        role=role,
        superuser=bool(superuser),
        replication=bool(replication or rds),
        settings=_settings(conn),
        active_senders=int(_one(conn, "SELECT count(*) FROM pg_stat_replication")[0]),
        tables=_tables(conn, selected),
        unmatched_patterns=tuple(unmatched),
        publication=_publication(conn, scope.publication),
        slots=_slots(conn),
        side_tables=_side_tables(conn, scope, role),
    )


def _side_tables(
    conn: Connection, scope: Scope, role: str
) -> tuple[tuple[str, SideTable, PgSideState], ...]:
    """``(check name, table, state)`` of the scope's signal and heartbeat tables."""
    found = []
    for check, qualified, spec in (
        ("signal table", scope.signal_table, postgres_signal_table),
        ("heartbeat table", scope.heartbeat_table, postgres_heartbeat_table),
    ):
        if qualified is None or "." not in qualified:
            continue
        table = spec(qualified)
        found.append(
            (check, table, postgres_state(conn, table, role, scope.publication))
        )
    return tuple(found)


def _one(conn: Connection, query: str) -> tuple[Any, ...]:
    row = conn.execute(query).fetchone()
    if row is None:  # pragma: no cover - these queries always return a row
        msg = f"no row from: {query.strip()[:60]}"
        raise psycopg.DataError(msg)
    return row


def _settings(conn: Connection) -> dict[str, PgSetting]:
    rows = conn.execute(
        "SELECT name, setting, pending_restart FROM pg_settings WHERE name = ANY(%s)",
        (list(SETTINGS),),
    ).fetchall()
    return {
        str(name): PgSetting(str(value), bool(pending)) for name, value, pending in rows
    }


def _tables(conn: Connection, selected: list[tuple[str, str]]) -> tuple[PgTable, ...]:
    if not selected:
        return ()
    schemas, names = [s for s, _ in selected], [t for _, t in selected]
    rows = conn.execute(_TABLE_DETAILS, (schemas, names)).fetchall()
    return tuple(
        PgTable(str(s), str(t), str(ident), bool(pk), bool(toast), bool(sel), bool(use))
        for s, t, ident, pk, toast, sel, use in rows
    )


def _publication(conn: Connection, name: str) -> PgPublication | None:
    row = conn.execute(
        "SELECT to_jsonb(p) FROM pg_publication p WHERE p.pubname = %s", (name,)
    ).fetchone()
    if row is None:
        return None
    body: dict[str, Any] = row[0]
    operations = frozenset(
        op for op in ("insert", "update", "delete", "truncate") if body.get(f"pub{op}")
    )
    tables = conn.execute(
        "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s",
        (name,),
    ).fetchall()
    return PgPublication(
        name,
        bool(body.get("puballtables")),
        operations,
        frozenset((str(s), str(t)) for s, t in tables),
    )


def _slots(conn: Connection) -> tuple[PgSlot, ...]:
    slots = []
    for body, retained in conn.execute(_SLOTS).fetchall():
        slots.append(
            PgSlot(
                name=body["slot_name"],
                plugin=body.get("plugin"),
                slot_type=body.get("slot_type", ""),
                database=body.get("database"),
                active=bool(body.get("active")),
                retained_bytes=None if retained is None else int(retained),
                wal_status=body.get("wal_status"),
            )
        )
    return tuple(slots)
