"""What a MySQL/MariaDB preflight reads from the server, in one read-only pass.

The user's privileges come from ``SHOW GRANTS``; only the privilege lists and
their targets are kept, never the rest of the line (it can hold a password
hash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pymysql

from lifeline.preflight.scope import Scope, select_tables

VARIABLES = (
    "version",
    "version_comment",
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "server_id",
    "expire_logs_days",
    "binlog_expire_logs_seconds",
    "gtid_mode",
    "enforce_gtid_consistency",
    "gtid_domain_id",
)
_VARIABLES_QUERY = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})".format(
    ", ".join(["%s"] * len(VARIABLES))
)
_TABLES_QUERY = (
    "SELECT table_schema, table_name FROM information_schema.TABLES "
    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
    "('mysql', 'information_schema', 'performance_schema', 'sys')"
)
_GRANT = re.compile(
    r"^GRANT (?P<privileges>.+?) ON (?P<db>`(?:[^`]|``)*`|\*|[^\s.`]+)"
    r"\.(?P<table>`(?:[^`]|``)*`|\*|[^\s`]+) TO ",
    re.IGNORECASE,
)
_COLUMN_PRIVILEGE = re.compile(r"[A-Z ]+\([^)]*\)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Grant:
    """Privileges on ``database.table``; ``*`` stands for all."""

    privileges: frozenset[str]  # upper case, "ALL PRIVILEGES" as "ALL"
    database: str
    table: str

    def covers(self, database: str, table: str = "*") -> bool:
        """True when this grant applies to ``database.table``."""
        return self.database in ("*", database) and self.table in ("*", table)


@dataclass(frozen=True, slots=True)
class MySQLFacts:
    """Everything a MySQL/MariaDB preflight decides on."""

    version: str
    mariadb: bool
    variables: dict[str, str]
    user: str
    host: str
    grants: tuple[Grant, ...]
    known_privileges: frozenset[str]
    tables: tuple[tuple[str, str], ...]
    unmatched_patterns: tuple[str, ...]
    binlogs: tuple[int, int] | None  # (files, bytes); None when not readable
    signal_exists: bool = False  # the scope's signal table is visible to the user

    def has(self, privilege: str, database: str = "*", table: str = "*") -> bool:
        """True when a grant gives ``privilege`` (or ALL) on ``database.table``."""
        return any(
            grant.covers(database, table)
            and (privilege in grant.privileges or "ALL" in grant.privileges)
            for grant in self.grants
        )


def gather(conn: pymysql.connections.Connection, scope: Scope) -> MySQLFacts:
    """Read every fact the checks need; raises pymysql.MySQLError on failure."""
    with conn.cursor() as cursor:
        variables = _variables(cursor)
        user, _, host = str(_scalar(cursor, "SELECT CURRENT_USER()")).rpartition("@")
        cursor.execute("SHOW GRANTS")
        grants = tuple(g for row in cursor.fetchall() if (g := parse_grant(row[0])))
        cursor.execute("SHOW PRIVILEGES")
        known = frozenset(str(row[0]).upper() for row in cursor.fetchall())
        available = _tables(cursor)
        selected, unmatched = select_tables(available, scope)
        binlogs = _binlogs(cursor)
    version = variables.get("version", "?")
    mariadb = "gtid_domain_id" in variables or "mariadb" in version.lower()
    return MySQLFacts(
        version=version,
        mariadb=mariadb,
        variables=variables,
        user=user,
        host=host,
        grants=grants,
        known_privileges=known,
        tables=tuple(selected),
        unmatched_patterns=tuple(unmatched),
        binlogs=binlogs,
        signal_exists=_signal_exists(available, scope),
    )


def _signal_exists(available: list[tuple[str, str]], scope: Scope) -> bool:
    database, _, table = (scope.signal_table or "").rpartition(".")
    return (database, table) in available


def parse_grant(line: str) -> Grant | None:
    """The privileges and target of one ``SHOW GRANTS`` line (None for roles)."""
    match = _GRANT.match(line)
    if match is None:
        return None
    # Column privileges, "SELECT (a, b)", do not cover the whole table.
    listed = _COLUMN_PRIVILEGE.sub("", match.group("privileges"))
    privileges = frozenset(
        "ALL" if p.strip().upper() == "ALL PRIVILEGES" else p.strip().upper()
        for p in listed.split(",")
        if p.strip()
    )
    return Grant(
        privileges, _unquote(match.group("db")), _unquote(match.group("table"))
    )


def _unquote(name: str) -> str:
    if name.startswith("`") and name.endswith("`"):
        return name[1:-1].replace("``", "`")
    return name


def _scalar(cursor: Any, query: str) -> Any:
    cursor.execute(query)
    row = cursor.fetchone()
    return None if row is None else row[0]


def _variables(cursor: Any) -> dict[str, str]:
    cursor.execute(_VARIABLES_QUERY, VARIABLES)
    return {str(name).lower(): str(value) for name, value in cursor.fetchall()}


def _tables(cursor: Any) -> list[tuple[str, str]]:
    cursor.execute(_TABLES_QUERY)
    return [(str(db), str(table)) for db, table in cursor.fetchall()]


def _binlogs(cursor: Any) -> tuple[int, int] | None:
    try:
        cursor.execute("SHOW BINARY LOGS")
    except pymysql.MySQLError:
        return None  # not allowed, or the binary log is off
    sizes = [int(row[1]) for row in cursor.fetchall()]
    return len(sizes), sum(sizes)
