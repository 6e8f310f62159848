"""``lifeline snapshot --table T``: re-read one captured table, while streaming goes on.

Finds the connector whose ``table.include.list`` captures T (``users``,
``public.users`` or ``identity.public.users``; ``--connector`` when the
name alone is ambiguous), checks its signal table and inserts Debezium's
``execute-snapshot`` signal (an incremental snapshot of T). The rows arrive
on T's topic as reads (``op=r``, ``source.snapshot=incremental``), chunk by
chunk; the flows apply them like any change, so nothing newer is
overwritten.

The signal table must exist, be writable by the connector's account (it
writes the chunk watermarks there) and, on PostgreSQL, be in the
publication. When it is not, the command prints the SQL that makes it so
and stops; with ``--create-signal-table`` it prints that SQL and runs it as
the settings' admin account, then sends the signal.

``lifeline snapshot --status`` shows each connector's last initial and
incremental snapshot, from Debezium's notifications topic.

Exit codes: 0 signal sent (or status shown), 2 an error (not captured,
signal table missing, database unreachable).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from lifeline.capture.connect_client import ConnectClient
from lifeline.capture.notifications import SnapshotProgress, read_progress
from lifeline.capture.signals import (
    SideTable,
    my_ident,
    mysql_signal_table,
    mysql_statements,
    mysql_table_exists,
    postgres_missing,
    postgres_signal_table,
)
from lifeline.capture.snapshot import (
    Signal,
    SnapshotTarget,
    resolve_table,
    snapshot_signal,
)
from lifeline.capture.templates import load_templates
from lifeline.errors import FatalError, LifelineError
from lifeline.settings import Settings
from lifeline.table import render_table

Execute = Callable[[str], None]


def add_parser(subparsers: Any) -> None:
    """Register ``snapshot`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "snapshot",
        help="incremental snapshot of a captured table (Debezium signal)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--table", help="the captured table to re-read")
    what.add_argument(
        "--status", action="store_true", help="show the connectors' snapshots"
    )
    parser.add_argument("--connector", help="the template capturing the table")
    parser.add_argument(
        "--create-signal-table",
        action="store_true",
        help="create the signal table (and its grant) when missing, SQL shown first",
    )
    parser.add_argument(
        "--additional-condition",
        metavar="SQL",
        help="read only the rows matching this predicate, e.g. \"status = 'active'\"",
    )
    parser.set_defaults(handler=run_snapshot)


def run_snapshot(args: argparse.Namespace, settings: Settings) -> int:
    """Send the signal, or show the status; the exit code."""
    if args.status:
        print(render_status(read_progress(settings), settings))
        return 0
    target = resolve_table(args.table, settings, load_templates(), args.connector)
    signal = snapshot_signal(target, args.additional_condition)
    send = _send_postgres if target.kind == "postgres" else _send_mysql
    send(settings, target, signal, args.create_signal_table)
    print(
        f"{target.connector}: incremental snapshot of {target.data_collection} "
        f"requested (signal {signal.id} in {target.signal_table}); its rows "
        f"arrive on {target.topic} as op=r, snapshot=incremental"
    )
    note = _connector_note(settings, target.connector)
    if note:
        print(note)
    print("follow it with: lifeline snapshot --status")
    return 0


# --- PostgreSQL ----------------------------------------------------------------


def _send_postgres(
    settings: Settings, target: SnapshotTarget, signal: Signal, create: bool
) -> None:
    from lifeline.samples.schema import identity_connection

    table = postgres_signal_table(target.signal_table)
    with identity_connection(settings) as conn:
        try:
            missing = postgres_missing(conn, table, target.user, target.publication)
            _set_up(target, table, missing, create, lambda s: _run(conn, s))
            conn.commit()  # the signal's insert must see the publication change
            conn.execute(
                sql.SQL("INSERT INTO {} (id, type, data) VALUES (%s, %s, %s)").format(
                    sql.Identifier(table.namespace, table.name)
                ),
                (signal.id, signal.type, signal.data),
            )
        except psycopg.Error as exc:
            msg = f"signal table {table.qualified}: {exc}".strip()
            raise FatalError(msg) from exc


def _run(conn: psycopg.Connection[Any], statement: str) -> None:
    conn.execute(statement)


# --- MySQL / MariaDB -------------------------------------------------------------


def _send_mysql(
    settings: Settings, target: SnapshotTarget, signal: Signal, create: bool
) -> None:
    import pymysql

    from lifeline.samples.schema import erp_connection

    table = mysql_signal_table(target.signal_table)
    with erp_connection(settings) as conn, conn.cursor() as cursor:
        try:
            missing = []
            if not mysql_table_exists(cursor, table):
                missing = mysql_statements(table, target.user)
            _set_up(target, table, missing, create, cursor.execute)
            name = f"{my_ident(table.namespace)}.{my_ident(table.name)}"
            cursor.execute(
                f"INSERT INTO {name} (id, type, data) VALUES (%s, %s, %s)",  # noqa: S608 - quoted identifier
                (signal.id, signal.type, signal.data),
            )
        except pymysql.MySQLError as exc:
            msg = f"signal table {table.qualified}: {exc}"
            raise FatalError(msg) from exc


# --- both ------------------------------------------------------------------------


def _set_up(
    target: SnapshotTarget,
    table: SideTable,
    statements: list[str],
    create: bool,
    execute: Execute,
) -> None:
    """Run (with ``create``) or demand the statements the signal table lacks."""
    if not statements:
        return
    listing = "\n".join(f"  {statement}" for statement in statements)
    if not create:
        msg = (
            f"{target.connector}: the signal table {table.qualified} is not ready; "
            f"run as an admin:\n{listing}\n"
            "or add --create-signal-table to have this command run it"
        )
        raise FatalError(msg)
    print(f"setting up the signal table {table.qualified}:\n{listing}", flush=True)
    for statement in statements:
        execute(statement)


def _connector_note(settings: Settings, name: str) -> str:
    """A line when the connector will not act on the signal soon, else ''."""
    try:
        state = ConnectClient(settings.connect.url).status(name)
    except LifelineError as exc:
        return f"note: Kafka Connect did not answer ({exc}); the signal waits"
    if state is None:
        return f"note: {name} is not on Kafka Connect; the signal waits until applied"
    if not state.running:
        return f"note: {name} is {state.summary}; the snapshot starts once it runs"
    return ""


def render_status(progress: list[SnapshotProgress], settings: Settings) -> str:
    """The status table, or a line saying no snapshot was reported yet."""
    if not progress:
        return (
            f"no snapshot notifications on {settings.topics.notifications} yet "
            "(connectors applied before notifications were enabled report none)"
        )
    rows = [
        (
            p.system,
            p.kind,
            p.state,
            p.collections or "-",
            p.detail or "-",
            p.at.isoformat(timespec="seconds") if p.at else "-",
        )
        for p in progress
    ]
    headers = ["connector", "snapshot", "state", "tables", "progress", "at"]
    return render_table(headers, rows)
