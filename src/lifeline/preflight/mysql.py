"""MySQL/MariaDB preflight: the binary log Debezium reads, and the user's grants.

:func:`preflight_mysql` connects as the user the connector logs in as, reads
the facts (:mod:`lifeline.preflight.mysql_facts`) and judges them here. It
never changes the database; fixes are only proposed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pymysql

from lifeline.capture.signals import mysql_signal_table, mysql_statements
from lifeline.preflight.dsn import MySQLDsn, mask
from lifeline.preflight.mysql_facts import MySQLFacts, gather
from lifeline.preflight.report import (
    Check,
    Fix,
    FixMode,
    Report,
    failed,
    passed,
    summarise,
    warned,
)
from lifeline.preflight.scope import Scope, heartbeat_check
from lifeline.preflight.units import format_size

DEFAULT_MIN_BINLOG_DAYS = 3.0
_OPTION_FILE = "in the [mysqld] section of the option file"
_QUIET_EFFECT = (
    "while the captured tables are quiet the recorded binlog position ages, "
    "and a restart after its file was purged needs a new snapshot"
)
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_$]+$")
_DAY = 86400


@dataclass(frozen=True, slots=True)
class MySQLLimits:
    """Thresholds of the binary log retention check."""

    min_binlog_days: float = DEFAULT_MIN_BINLOG_DAYS  # shorter is reported
    fix_binlog_days: int = 7  # what the fix sets retention to


def connect_mysql(dsn: MySQLDsn) -> Any:
    """An autocommit connection as the DSN's user (no database selected)."""
    return pymysql.connect(
        host=dsn.host,
        port=dsn.port,
        user=dsn.user,
        password=dsn.password,
        charset="utf8mb4",
        connect_timeout=5,
        read_timeout=30,
        autocommit=True,
    )


def preflight_mysql(
    dsn: MySQLDsn, scope: Scope, limits: MySQLLimits | None = None
) -> Report:
    """Check the server ``dsn`` points at; never changes anything.

    A connection error becomes one failed ``connection`` check, its message
    with the password masked.
    """
    try:
        conn = connect_mysql(dsn)
        try:
            facts = gather(conn, scope)
        finally:
            conn.close()
    except pymysql.MySQLError as exc:
        reason = mask(" ".join(str(exc).split()), [dsn.password])
        return Report(dsn.display, "MySQL", (failed("connection", reason, None),))
    checks = evaluate(facts, scope, limits or MySQLLimits())
    flavour = "MariaDB" if facts.mariadb else "MySQL"
    return Report(dsn.display, f"{flavour} {facts.version}", tuple(checks))


def evaluate(facts: MySQLFacts, scope: Scope, limits: MySQLLimits) -> list[Check]:
    """Judge the facts; every check of a MySQL/MariaDB preflight, in report order."""
    return [
        _log_bin(facts),
        _variable(facts, "binlog_format", "ROW", "Debezium reads row events only"),
        _variable(
            facts, "binlog_row_image", "FULL", "events would lack unchanged columns"
        ),
        _server_id(facts, scope),
        _retention(facts, limits),
        _gtid(facts),
        _tables(facts),
        _grants(facts, scope),
        *_signal_table(facts, scope),
        *heartbeat_check(scope, _QUIET_EFFECT),
    ]


def _signal_table(facts: MySQLFacts, scope: Scope) -> list[Check]:
    """The signal table ``lifeline snapshot`` writes; Debezium writes watermarks."""
    check = "signal table"
    if scope.connector is None:
        return []
    if scope.signal_table is None:
        note = f"set signal.data.collection in {scope.connector}"
        reason = "none: lifeline snapshot cannot ask for incremental snapshots"
        return [warned(check, reason, Fix((), FixMode.MANUAL, note))]
    table = mysql_signal_table(scope.signal_table)
    captured = sorted({db for db, _ in facts.tables})
    if table.namespace not in captured:
        note = f"use a table in {', '.join(captured) or 'a captured database'}"
        reason = f"{table.qualified} is outside the captured databases: never read"
        return [warned(check, reason, Fix((), FixMode.MANUAL, note))]
    lacking = [
        p for p in table.privileges if not facts.has(p, table.namespace, table.name)
    ]
    if facts.signal_exists and not lacking:
        return [passed(check, f"{table.qualified}: ready")]
    statements = mysql_statements(
        table, facts.user, facts.host, create=not facts.signal_exists
    )
    who = f"{facts.user}@{facts.host}"
    problem = (
        f"lacks {', '.join(lacking)} for {who}"
        if facts.signal_exists
        else "does not exist"
    )
    reason = f"{table.qualified} {problem}: lifeline snapshot cannot run"
    return [warned(check, reason, Fix(tuple(statements)))]


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _account(facts: MySQLFacts) -> str:
    return f"{_literal(facts.user)}@{_literal(facts.host)}"


def _persists(facts: MySQLFacts) -> bool:
    """MySQL 8 keeps ``SET PERSIST`` across restarts; MariaDB has no such thing."""
    major = facts.version.split(".", 1)[0]
    return not facts.mariadb and major.isdigit() and int(major) >= 8


def _set_global(facts: MySQLFacts, name: str, value: str) -> Fix:
    if _persists(facts):
        return Fix((f"SET PERSIST {name} = {value};",))
    note = (
        f"also {name} = {value.strip(chr(39))} {_OPTION_FILE}, or a restart undoes it"
    )
    return Fix((f"SET GLOBAL {name} = {value};",), note=note)


def _log_bin(facts: MySQLFacts) -> Check:
    if facts.variables.get("log_bin", "OFF").upper() in ("ON", "1"):
        return passed("log_bin", "ON")
    fix = Fix(("log_bin = binlog",), FixMode.RESTART, f"{_OPTION_FILE}, then restart")
    return failed("log_bin", "OFF: there is no binary log to read", fix)


def _variable(facts: MySQLFacts, name: str, wanted: str, why: str) -> Check:
    value = facts.variables.get(name, "?")
    if value.upper() == wanted:
        return passed(name, value)
    fix = _set_global(facts, name, _literal(wanted))
    return failed(name, f"{value}; needs {wanted}: {why}", fix)


def _server_id(facts: MySQLFacts, scope: Scope) -> Check:
    server_id = int(facts.variables.get("server_id", "0") or 0)
    if server_id == 0:
        note = f"a number unique among the servers and replicas, {_OPTION_FILE}"
        fix = Fix(("server_id = <unique number>",), FixMode.RESTART, note)
        return failed("server_id", "0: the binary log needs a server id", fix)
    if scope.connector_server_id == server_id:
        note = f"give {scope.connector} another database.server.id"
        reason = f"{server_id} is also the connector's database.server.id"
        return failed("server_id", reason, Fix((), FixMode.MANUAL, note))
    theirs = scope.connector_server_id
    suffix = "" if theirs is None else f" (the connector uses {theirs})"
    return passed("server_id", f"{server_id}{suffix}")


def _retention_seconds(facts: MySQLFacts) -> float:
    seconds = float(facts.variables.get("binlog_expire_logs_seconds", "0") or 0)
    if seconds > 0:
        return seconds
    return float(facts.variables.get("expire_logs_days", "0") or 0) * _DAY


def _retention_fix(facts: MySQLFacts, limits: MySQLLimits) -> Fix:
    if "binlog_expire_logs_seconds" in facts.variables:
        seconds = str(limits.fix_binlog_days * _DAY)
        return _set_global(facts, "binlog_expire_logs_seconds", seconds)
    return _set_global(facts, "expire_logs_days", str(limits.fix_binlog_days))


def _retention(facts: MySQLFacts, limits: MySQLLimits) -> Check:
    seconds = _retention_seconds(facts)
    kept = ""
    if facts.binlogs is not None:
        files, size = facts.binlogs
        kept = f"; {files} binlog file(s), {format_size(size)} now"
    if seconds <= 0:
        reason = f"never purged: binary logs pile up until the disk is full{kept}"
        return warned("binlog retention", reason, _retention_fix(facts, limits))
    if seconds / _DAY < limits.min_binlog_days:
        reason = (
            f"{_duration(seconds)}: a connector stopped for longer loses its "
            f"place and must take a new snapshot{kept}"
        )
        return warned("binlog retention", reason, _retention_fix(facts, limits))
    return passed("binlog retention", f"{_duration(seconds)}{kept}")


def _duration(seconds: float) -> str:
    if seconds < _DAY:
        return f"{seconds / 3600:.3g} hours"
    return f"{seconds / _DAY:.3g} days"


def _gtid(facts: MySQLFacts) -> Check:
    if facts.mariadb:
        domain = facts.variables.get("gtid_domain_id", "?")
        return passed("gtid", f"MariaDB GTIDs (domain {domain})")
    mode = facts.variables.get("gtid_mode", "OFF")
    consistency = facts.variables.get("enforce_gtid_consistency", "OFF")
    if mode.upper() == "ON" and consistency.upper() == "ON":
        return passed("gtid", "gtid_mode=ON")
    note = (
        f"{_OPTION_FILE}, then restart (or switch online step by step, as the "
        "MySQL manual describes)"
    )
    fix = Fix(
        ("gtid_mode = ON", "enforce_gtid_consistency = ON"), FixMode.RESTART, note
    )
    reason = f"gtid_mode={mode}: the connector cannot follow a failover to a replica"
    return warned("gtid", reason, fix)


def _tables(facts: MySQLFacts) -> Check:
    who = f"{facts.user}@{facts.host}"
    if facts.unmatched_patterns:
        patterns = ", ".join(facts.unmatched_patterns)
        note = "create the tables, grant SELECT on them, or correct the include lists"
        reason = f"no table visible to {who} matches {patterns}"
        return failed("captured tables", reason, Fix((), FixMode.MANUAL, note))
    if not facts.tables:
        note = "set database.include.list / table.include.list in the template"
        reason = f"no table visible to {who}"
        return failed("captured tables", reason, Fix((), FixMode.MANUAL, note))
    names = [f"{db}.{table}" for db, table in facts.tables]
    return passed("captured tables", summarise(names))


def _client_privilege(facts: MySQLFacts) -> str:
    # MariaDB 10.5 renamed REPLICATION CLIENT (SHOW MASTER STATUS) to this.
    if facts.mariadb and "BINLOG MONITOR" in facts.known_privileges:
        return "BINLOG MONITOR"
    return "REPLICATION CLIENT"


def _has_global(facts: MySQLFacts, privilege: str) -> bool:
    if privilege == "BINLOG MONITOR":
        return facts.has(privilege) or facts.has("REPLICATION CLIENT")
    return facts.has(privilege)


def _databases(facts: MySQLFacts, scope: Scope) -> list[str]:
    """Databases the snapshot reads: of the matched tables, else plain patterns."""
    found = {db for db, _ in facts.tables}
    if not found:
        names = [*scope.namespace_patterns]
        names += [p.split(".", 1)[0] for p in scope.table_patterns if "." in p]
        found = {name for name in names if _PLAIN_NAME.match(name)}
    return sorted(found)


def _missing_per_database(facts: MySQLFacts, scope: Scope) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for db in _databases(facts, scope):
        tables = [t for d, t in facts.tables if d == db] or ["*"]
        if not all(facts.has("SELECT", db, table) for table in tables):
            missing.setdefault(db, []).append("SELECT")
        if facts.mariadb and not facts.has("LOCK TABLES", db):
            missing.setdefault(db, []).append("LOCK TABLES")
    return missing


def _grants(facts: MySQLFacts, scope: Scope) -> Check:
    needed = ["RELOAD", "SHOW DATABASES", "REPLICATION SLAVE", _client_privilege(facts)]
    missing_global = [p for p in needed if not _has_global(facts, p)]
    per_database = _missing_per_database(facts, scope)
    account, who = _account(facts), f"{facts.user}@{facts.host}"
    if not missing_global and not per_database:
        if facts.has("ALL") or facts.has("SUPER"):
            note = f"grant {who} only what Debezium needs (see docs/database-owners.md)"
            reason = f"{who} has ALL or SUPER: far more than Debezium needs"
            return warned("grants", reason, Fix((), FixMode.MANUAL, note))
        return passed("grants", f"{who} has what Debezium needs")
    statements = []
    if missing_global:
        statements.append(f"GRANT {', '.join(missing_global)} ON *.* TO {account};")
    for db, privileges in per_database.items():
        granted = ", ".join(privileges)
        statements.append(f"GRANT {granted} ON {_ident(db)}.* TO {account};")
    lacks = [f"{p} on *.*" for p in missing_global]
    lacks += [f"{p} on {db}" for db, ps in per_database.items() for p in ps]
    return failed("grants", f"{who} lacks {', '.join(lacks)}", Fix(tuple(statements)))
