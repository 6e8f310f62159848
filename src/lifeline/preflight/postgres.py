"""PostgreSQL preflight: what Debezium's connector needs, and what can hurt the server.

:func:`preflight_postgres` connects with the DSN of the role the connector
logs in as, reads the facts (:mod:`lifeline.preflight.postgres_facts`) and
judges them here. It never changes the database; fixes are only proposed.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from lifeline.capture.signals import PgSideState, postgres_statements
from lifeline.preflight.dsn import mask, postgres_display, postgres_password
from lifeline.preflight.postgres_facts import (
    Connection,
    PgSlot,
    PgTable,
    PostgresFacts,
    gather,
)
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
from lifeline.wording import counted

DEFAULT_MAX_RETAINED_WAL = 1 << 30
_RESTART_NOTE = "then restart PostgreSQL"
_NEEDED_OPERATIONS = frozenset({"insert", "update", "delete"})
_QUIET_EFFECT = "while the captured tables are quiet the slot keeps WAL"
_IDENTITY = {"d": "DEFAULT", "n": "NOTHING", "f": "FULL", "i": "INDEX"}


@dataclass(frozen=True, slots=True)
class PostgresLimits:
    """Thresholds of the WAL checks."""

    # An inactive slot keeping more WAL than this is reported.
    max_retained_wal: int = DEFAULT_MAX_RETAINED_WAL
    # What the fix sets max_slot_wal_keep_size to when it is unlimited.
    slot_wal_keep_size: str = "16GB"


def connect_postgres(dsn: str) -> Connection:
    """An autocommit connection (``ALTER SYSTEM`` refuses transaction blocks)."""
    if "connect_timeout" in conninfo_to_dict(dsn):
        return psycopg.connect(dsn, autocommit=True)
    return psycopg.connect(dsn, connect_timeout=5, autocommit=True)


def preflight_postgres(
    dsn: str, scope: Scope, limits: PostgresLimits | None = None
) -> Report:
    """Check the server and database ``dsn`` points at; never changes anything.

    A connection or catalog error becomes one failed ``connection`` check,
    its message with the DSN's password masked.
    """
    target = postgres_display(dsn)
    try:
        with connect_postgres(dsn) as conn:
            facts = gather(conn, scope)
    except psycopg.Error as exc:
        reason = mask(" ".join(str(exc).split()), [postgres_password(dsn)])
        return Report(target, "PostgreSQL", (failed("connection", reason, None),))
    checks = evaluate(facts, scope, limits or PostgresLimits())
    return Report(target, f"PostgreSQL {facts.version}", tuple(checks))


def evaluate(facts: PostgresFacts, scope: Scope, limits: PostgresLimits) -> list[Check]:
    """Judge the facts; every check of a PostgreSQL preflight, in report order."""
    return [
        _version(facts),
        _wal_level(facts),
        _slot_capacity(facts, scope),
        _sender_capacity(facts, scope),
        _replication_role(facts),
        *_table_checks(facts),
        *_side_table_checks(facts, scope),
        _publication(facts, scope),
        *_replica_identity(facts.tables),
        _connector_slot(facts, scope),
        *_retained_wal(facts, limits),
        *_wal_keep_cap(facts, limits),
        *heartbeat_check(scope, _QUIET_EFFECT, action_query_hint=True),
    ]


_SIDE_EFFECTS = {
    "signal table": "lifeline snapshot cannot run an incremental snapshot",
    "heartbeat table": "heartbeat.action.query fails, and with it the connector",
}


def _side_table_checks(facts: PostgresFacts, scope: Scope) -> list[Check]:
    """The signal table (``lifeline snapshot``) and the heartbeat table, if used."""
    checks = []
    if scope.connector is not None and scope.signal_table is None:
        note = f"set signal.data.collection in {scope.connector}"
        reason = "none: lifeline snapshot cannot ask for incremental snapshots"
        checks.append(warned("signal table", reason, Fix((), FixMode.MANUAL, note)))
    for name, table, state in facts.side_tables:
        statements = postgres_statements(table, facts.role, scope.publication, state)
        if not statements:
            checks.append(passed(name, f"{table.qualified}: ready"))
            continue
        reason = f"{table.qualified}: {_lacks(state, facts.role, scope.publication)}"
        unwritable = not state.exists or bool(state.missing_privileges)
        if unwritable:
            reason += f": {_SIDE_EFFECTS[name]}"
        verdict = failed if unwritable and name == "heartbeat table" else warned
        checks.append(verdict(name, reason, Fix(tuple(statements))))
    return checks


def _lacks(state: PgSideState, role: str, publication: str) -> str:
    if not state.exists:
        return "does not exist"
    parts = []
    if state.missing_privileges:
        parts.append(f"role {role} lacks {', '.join(state.missing_privileges)}")
    if not state.in_publication:
        parts.append(f"not in {publication}, so the connector never reads it")
    return "; ".join(parts)


def ident(name: str) -> str:
    """``name`` quoted as a PostgreSQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` quoted as a PostgreSQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _table_name(schema: str, table: str) -> str:
    return f"{ident(schema)}.{ident(table)}"


def _pending(facts: PostgresFacts, name: str) -> str:
    pending = facts.settings[name].pending_restart
    return " (a changed value waits for a restart)" if pending else ""


def _version(facts: PostgresFacts) -> Check:
    if facts.version_num < 100000:
        reason = f"{facts.version}: the pgoutput plugin needs PostgreSQL 10 or newer"
        return failed("server version", reason, Fix((), FixMode.MANUAL, "upgrade"))
    return passed("server version", facts.version)


def _wal_level(facts: PostgresFacts) -> Check:
    value = facts.settings["wal_level"].value
    if value == "logical":
        return passed("wal_level", value)
    fix = Fix(
        ("ALTER SYSTEM SET wal_level = logical;",), FixMode.RESTART, _RESTART_NOTE
    )
    reason = f"{value}{_pending(facts, 'wal_level')}; logical decoding needs logical"
    return failed("wal_level", reason, fix)


def _slot_capacity(facts: PostgresFacts, scope: Scope) -> Check:
    exists = any(slot.name == scope.slot for slot in facts.slots)
    return _capacity(
        facts,
        "max_replication_slots",
        in_use=len(facts.slots),
        extra=0 if exists else 1,
        unit="slots",
    )


def _sender_capacity(facts: PostgresFacts, scope: Scope) -> Check:
    ours = next((s for s in facts.slots if s.name == scope.slot), None)
    return _capacity(
        facts,
        "max_wal_senders",
        in_use=facts.active_senders,
        extra=0 if ours is not None and ours.active else 1,
        unit="WAL senders",
    )


def _capacity(
    facts: PostgresFacts, name: str, *, in_use: int, extra: int, unit: str
) -> Check:
    limit = int(facts.settings[name].value)
    finding = f"{in_use} of {limit} {unit} in use"
    if in_use + extra <= limit:
        return passed(name, finding)
    wanted = in_use + extra + 2
    fix = Fix((f"ALTER SYSTEM SET {name} = {wanted};",), FixMode.RESTART, _RESTART_NOTE)
    reason = f"{finding}{_pending(facts, name)}; the connector needs one more"
    return failed(name, reason, fix)


def _replication_role(facts: PostgresFacts) -> Check:
    name = "replication right"
    if facts.superuser:
        note = (
            "let the connector log in as a role WITH LOGIN REPLICATION that may "
            "only SELECT the captured tables"
        )
        reason = f"role {facts.role} is a superuser: far more than Debezium needs"
        return warned(name, reason, Fix((), FixMode.MANUAL, note))
    if facts.replication:
        return passed(name, f"role {facts.role} has REPLICATION")
    fix = Fix((f"ALTER ROLE {ident(facts.role)} WITH REPLICATION;",))
    return failed(name, f"role {facts.role} lacks REPLICATION", fix)


def _table_checks(facts: PostgresFacts) -> list[Check]:
    if facts.unmatched_patterns:
        patterns = ", ".join(facts.unmatched_patterns)
        note = "create the tables, or correct table.include.list"
        reason = f"no table matches {patterns}"
        return [failed("captured tables", reason, Fix((), FixMode.MANUAL, note))]
    if not facts.tables:
        note = "set table.include.list in the connector template"
        reason = "no table to capture in this database"
        return [failed("captured tables", reason, Fix((), FixMode.MANUAL, note))]
    names = summarise([table.qualified for table in facts.tables])
    return [passed("captured tables", names), _usage(facts), _select(facts)]


def _usage(facts: PostgresFacts) -> Check:
    missing = sorted({t.schema for t in facts.tables if not t.schema_usage})
    if not missing:
        return passed("schema usage", f"role {facts.role} may use the schemas")
    role = ident(facts.role)
    fix = Fix(tuple(f"GRANT USAGE ON SCHEMA {ident(s)} TO {role};" for s in missing))
    return failed("schema usage", f"no USAGE on {', '.join(missing)}", fix)


def _select(facts: PostgresFacts) -> Check:
    missing = [t for t in facts.tables if not t.can_select]
    if not missing:
        return passed("select right", f"role {facts.role} may read every table")
    tables = ", ".join(_table_name(t.schema, t.name) for t in missing)
    fix = Fix((f"GRANT SELECT ON TABLE {tables} TO {ident(facts.role)};",))
    names = ", ".join(t.qualified for t in missing)
    return failed("select right", f"no SELECT on {names} (snapshots read them)", fix)


def _publication(facts: PostgresFacts, scope: Scope) -> Check:
    name, publication = scope.publication, facts.publication
    # The signal and heartbeat tables join it too (their checks create them).
    listed = [(t.schema, t.name) for t in facts.tables]
    listed += [(t.namespace, t.name) for _, t, _ in facts.side_tables]
    tables = ", ".join(_table_name(schema, table) for schema, table in listed)
    disabled = scope.publication_autocreate == "disabled"
    if publication is None:
        fix = Fix((f"CREATE PUBLICATION {ident(name)} FOR TABLE {tables};",))
        if disabled:
            reason = f"{name} does not exist and publication.autocreate.mode=disabled"
            return failed("publication", reason, fix)
        reason = (
            f"{name} does not exist; the connector would create it, which needs "
            "ownership of every captured table (better: create it as an admin)"
        )
        return warned("publication", reason, fix)
    missing_ops = _NEEDED_OPERATIONS - publication.operations
    if missing_ops:
        publish = "insert, update, delete, truncate"
        fix = Fix((f"ALTER PUBLICATION {ident(name)} SET (publish = '{publish}');",))
        reason = f"{name} does not publish {', '.join(sorted(missing_ops))}"
        return failed("publication", reason, fix)
    return _publication_tables(facts, scope, disabled)


def _publication_tables(facts: PostgresFacts, scope: Scope, disabled: bool) -> Check:
    publication = facts.publication
    assert publication is not None
    if publication.all_tables:
        return passed("publication", f"{publication.name}: FOR ALL TABLES")
    missing = [t for t in facts.tables if (t.schema, t.name) not in publication.tables]
    if not missing:
        count = len(facts.tables)
        return passed("publication", f"{publication.name} holds all {count} tables")
    fix = Fix(
        tuple(
            f"ALTER PUBLICATION {ident(publication.name)} ADD TABLE "
            f"{_table_name(t.schema, t.name)};"
            for t in missing
        )
    )
    names = ", ".join(t.qualified for t in missing)
    reason = f"{publication.name} lacks {names}: their changes would not be captured"
    return (failed if disabled else warned)("publication", reason, fix)


def _replica_identity(tables: tuple[PgTable, ...]) -> list[Check]:
    checks = [check for table in tables if (check := _identity(table)) is not None]
    if not checks and tables:
        return [passed("replica identity", f"FULL on all {len(tables)} tables")]
    return checks


def _identity(table: PgTable) -> Check | None:
    kind = table.replica_identity
    if kind == "f":
        return None
    label = _IDENTITY.get(kind, kind)
    name = _table_name(table.schema, table.name)
    fix = Fix(
        (f"ALTER TABLE {name} REPLICA IDENTITY FULL;",),
        note="FULL writes the whole old row to the WAL on every UPDATE and DELETE",
    )
    if kind == "n" or (kind == "d" and not table.has_primary_key):
        what = label if kind == "n" else f"{label} without a primary key"
        reason = (
            f"{table.qualified}: {what}: once published, its UPDATEs and "
            "DELETEs fail, and change events carry no key"
        )
        return failed("replica identity", reason, fix)
    reason = f"{table.qualified}: {label}: updates lack the before image"
    if table.toastable:
        reason += "; unchanged TOAST values arrive as placeholders"
    return warned("replica identity", reason, fix)


def _connector_slot(facts: PostgresFacts, scope: Scope) -> Check:
    slot = next((s for s in facts.slots if s.name == scope.slot), None)
    if slot is None:
        return passed("slot", f"{scope.slot}: not there yet; the connector creates it")
    drop = Fix(
        (f"SELECT pg_drop_replication_slot({literal(slot.name)});",),
        FixMode.MANUAL,
        "the connector then creates it again and takes a new snapshot",
    )
    if slot.slot_type != "logical" or slot.plugin != scope.plugin:
        reason = f"{slot.name} uses {slot.plugin or 'physical'}, not {scope.plugin}"
        return failed("slot", reason, drop)
    if slot.database != facts.database:
        reason = f"{slot.name} belongs to database {slot.database}"
        return failed("slot", reason, drop)
    if slot.wal_status == "lost":
        reason = f"{slot.name} lost WAL it needed: changes were missed"
        return failed("slot", reason, drop)
    state = "active" if slot.active else "inactive"
    return passed("slot", f"{slot.name}: {state}, keeps {_kept(slot)} of WAL")


def _kept(slot: PgSlot) -> str:
    return "?" if slot.retained_bytes is None else format_size(slot.retained_bytes)


def _retained_wal(facts: PostgresFacts, limits: PostgresLimits) -> list[Check]:
    heavy = [
        slot
        for slot in facts.slots
        if not slot.active and (slot.retained_bytes or 0) > limits.max_retained_wal
    ]
    checks = [
        warned(
            "retained WAL",
            f"slot {slot.name} is inactive and keeps {_kept(slot)} of WAL",
            Fix(
                (f"SELECT pg_drop_replication_slot({literal(slot.name)});",),
                FixMode.MANUAL,
                "only if nothing will resume from this slot",
            ),
        )
        for slot in heavy
    ]
    if checks:
        return checks
    most = max((slot.retained_bytes or 0 for slot in facts.slots), default=0)
    reason = f"{counted(len(facts.slots), 'slot')}, keeping {format_size(most)} at most"
    return [passed("retained WAL", reason)]


def _wal_keep_cap(facts: PostgresFacts, limits: PostgresLimits) -> list[Check]:
    setting = facts.settings.get("max_slot_wal_keep_size")
    if setting is None:  # before PostgreSQL 13
        return []
    if setting.value != "-1":
        return [passed("max_slot_wal_keep_size", f"{setting.value} MB")]
    size = literal(limits.slot_wal_keep_size)
    fix = Fix(
        (
            f"ALTER SYSTEM SET max_slot_wal_keep_size = {size};",
            "SELECT pg_reload_conf();",
        ),
        note="keep it below the free disk; a slot further behind is invalidated",
    )
    reason = "unlimited: a slot nobody reads keeps WAL until the disk is full"
    return [warned("max_slot_wal_keep_size", reason, fix)]
