"""The signal and heartbeat tables Debezium uses next to the captured tables.

* The **signal table** (``signal.data.collection``) is where ``lifeline
  snapshot`` asks for an incremental snapshot, and where Debezium writes the
  watermarks that open and close each snapshot chunk. The connector reads it
  from the log like a captured table: on PostgreSQL it must be in the
  publication; on MySQL/MariaDB it must be in a captured database (Debezium
  adds it to the table filter by itself). The CDC account writes it.
* The **heartbeat table** (PostgreSQL) is the one row that
  ``heartbeat.action.query`` updates, so the slot keeps moving while the
  captured tables are quiet. It is in the publication too.

The functions here only build SQL and read catalogs; callers decide whether
to print the statements or run them (``lifeline snapshot``, ``preflight
--fix``, ``lifeline seed``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from lifeline.settings import Settings

Execute = Callable[[str], None]
PgConnection = psycopg.Connection[Any]

_PG_SIGNAL_COLUMNS = "id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT"
_PG_HEARTBEAT_COLUMNS = "id INT PRIMARY KEY, beat_at TIMESTAMPTZ NOT NULL"
_MY_SIGNAL_COLUMNS = (
    "id VARCHAR(64) NOT NULL PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT NULL"
)
_MY_TABLE_OPTIONS = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"


@dataclass(frozen=True, slots=True)
class SideTable:
    """A table Lifeline keeps next to the captured ones, and its CDC rights.

    ``privileges`` are what the connector's account needs on it: Debezium
    inserts and deletes watermarks in the signal table and upserts the
    heartbeat row.
    """

    namespace: str  # schema (PostgreSQL) or database (MySQL)
    name: str
    columns: str
    privileges: tuple[str, ...]

    @property
    def qualified(self) -> str:
        """``namespace.name``, as Debezium and ``signal.data.collection`` write it."""
        return f"{self.namespace}.{self.name}"


def split_qualified(qualified: str, what: str) -> tuple[str, str]:
    """``namespace.table`` as a pair; ValueError naming ``what`` otherwise."""
    namespace, _, name = qualified.strip().rpartition(".")
    if not namespace or not name:
        msg = f"{what} must be namespace.table, got {qualified!r}"
        raise ValueError(msg)
    return namespace, name


def postgres_signal_table(qualified: str) -> SideTable:
    """The PostgreSQL signal table ``schema.table``."""
    schema, name = split_qualified(qualified, "signal.data.collection")
    return SideTable(schema, name, _PG_SIGNAL_COLUMNS, ("SELECT", "INSERT", "DELETE"))


def postgres_heartbeat_table(qualified: str) -> SideTable:
    """The PostgreSQL heartbeat table ``schema.table``."""
    schema, name = split_qualified(qualified, "heartbeat table")
    return SideTable(
        schema, name, _PG_HEARTBEAT_COLUMNS, ("SELECT", "INSERT", "UPDATE")
    )


def mysql_signal_table(qualified: str) -> SideTable:
    """The MySQL/MariaDB signal table ``database.table``."""
    database, name = split_qualified(qualified, "signal.data.collection")
    return SideTable(database, name, _MY_SIGNAL_COLUMNS, ("SELECT", "INSERT", "DELETE"))


# --- PostgreSQL ----------------------------------------------------------------


def pg_ident(name: str) -> str:
    """``name`` quoted as a PostgreSQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _pg_table(table: SideTable) -> str:
    return f"{pg_ident(table.namespace)}.{pg_ident(table.name)}"


@dataclass(frozen=True, slots=True)
class PgSideState:
    """What a PostgreSQL database already has of a side table."""

    exists: bool
    missing_privileges: tuple[str, ...]
    in_publication: bool  # also True when there is no such publication


def postgres_statements(
    table: SideTable, role: str, publication: str | None, state: PgSideState
) -> list[str]:
    """The statements that give ``table`` what ``state`` lacks."""
    name = _pg_table(table)
    statements = []
    if not state.exists:
        statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({table.columns});")
    missing = table.privileges if not state.exists else state.missing_privileges
    if missing:
        statements.append(
            f"GRANT {', '.join(missing)} ON TABLE {name} TO {pg_ident(role)};"
        )
    if publication is not None and not state.in_publication:
        statements.append(
            f"ALTER PUBLICATION {pg_ident(publication)} ADD TABLE {name};"
        )
    return statements


def postgres_state(
    conn: PgConnection, table: SideTable, role: str, publication: str | None
) -> PgSideState:
    """Read whether ``table`` exists, ``role``'s rights on it and its publication.

    Reads catalogs only; raises psycopg.Error when they cannot be read.
    """
    row = conn.execute("SELECT to_regclass(%s)::oid", (_pg_table(table),)).fetchone()
    oid = None if row is None else row[0]
    if oid is None:
        joined = _in_publication(conn, table, publication)
        return PgSideState(exists=False, missing_privileges=(), in_publication=joined)
    missing = tuple(
        privilege
        for privilege in table.privileges
        if not _one(
            conn,
            "SELECT has_table_privilege(%s::name, %s::oid, %s)",
            (role, oid, privilege),
        )
    )
    return PgSideState(True, missing, _in_publication(conn, table, publication))


def _in_publication(
    conn: PgConnection, table: SideTable, publication: str | None
) -> bool:
    """True when ``publication`` holds ``table``, or there is no such publication."""
    if publication is None:
        return True
    found = conn.execute(
        "SELECT puballtables FROM pg_publication WHERE pubname = %s", (publication,)
    ).fetchone()
    if found is None or found[0]:
        return True
    return bool(
        _one(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = %s"
            " AND schemaname = %s AND tablename = %s)",
            (publication, table.namespace, table.name),
        )
    )


def _one(conn: PgConnection, query: str, params: tuple[Any, ...]) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def postgres_missing(
    conn: PgConnection, table: SideTable, role: str, publication: str | None
) -> list[str]:
    """The statements ``table`` still needs in the database ``conn`` is on."""
    state = postgres_state(conn, table, role, publication)
    return postgres_statements(table, role, publication, state)


def ensure_postgres_side_tables(
    conn: PgConnection, settings: Settings, publication: str
) -> list[str]:
    """Create the settings' signal and heartbeat tables where missing; what ran.

    Runs as the connection's role (an admin: it creates tables, grants and
    alters the publication).
    """
    pg = settings.postgres
    ran: list[str] = []
    for table in (
        postgres_signal_table(pg.signal_table),
        postgres_heartbeat_table(pg.heartbeat_table),
    ):
        for statement in postgres_missing(conn, table, pg.cdc_user, publication):
            conn.execute(statement)
            ran.append(statement)
    return ran


# --- MySQL / MariaDB -------------------------------------------------------------


def my_ident(name: str) -> str:
    """``name`` quoted as a MySQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def my_literal(text: str) -> str:
    """``text`` quoted as a MySQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def mysql_statements(
    table: SideTable, user: str, host: str = "%", *, create: bool = True
) -> list[str]:
    """Create ``table`` (unless not ``create``) and grant ``user@host`` its rights."""
    name = f"{my_ident(table.namespace)}.{my_ident(table.name)}"
    account = f"{my_literal(user)}@{my_literal(host)}"
    grant = f"GRANT {', '.join(table.privileges)} ON {name} TO {account};"
    if not create:
        return [grant]
    return [
        f"CREATE TABLE IF NOT EXISTS {name} ({table.columns}){_MY_TABLE_OPTIONS};",
        grant,
    ]


def mysql_table_exists(cursor: Any, table: SideTable) -> bool:
    """True when ``table`` exists (and the cursor's user may see it)."""
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.TABLES"
        " WHERE table_schema = %s AND table_name = %s",
        (table.namespace, table.name),
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def ensure_mysql_signal_table(cursor: Any, settings: Settings) -> list[str]:
    """Create the settings' signal table and grant the CDC user (idempotent)."""
    db = settings.mariadb
    table = mysql_signal_table(f"{db.database}.{db.signal_table}")
    statements = mysql_statements(table, db.cdc_user)
    for statement in statements:
        cursor.execute(statement)
    return statements
