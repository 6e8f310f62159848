"""``lifeline preflight postgres|mysql [DSN]``: is a database ready for Debezium.

Prints one row per check (pass / warn / fail, the finding and its fix) and
exits 0 when all pass, 1 with warnings, 2 with any failure. Without ``--fix``
nothing in the database changes. With ``--fix`` each online fix statement is
shown, confirmed (unless ``--yes``) and run as ``--admin-dsn`` (default: the
checked DSN, or the settings' admin account when no DSN was given). When
at least one was applied the checks run again, are printed again and give
the exit code; otherwise the first report's exit code stands. Passwords
never appear in the output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pymysql

from lifeline.errors import FatalError
from lifeline.preflight.dsn import (
    MySQLDsn,
    default_mysql_dsn,
    default_postgres_dsn,
    mask,
    parse_mysql_dsn,
    postgres_display,
    postgres_password,
)
from lifeline.preflight.fixer import Execute, apply_fixes, ask
from lifeline.preflight.mysql import (
    DEFAULT_MIN_BINLOG_DAYS,
    MySQLLimits,
    connect_mysql,
    preflight_mysql,
)
from lifeline.preflight.postgres import (
    DEFAULT_MAX_RETAINED_WAL,
    PostgresLimits,
    connect_postgres,
    preflight_postgres,
)
from lifeline.preflight.report import Report, render_report
from lifeline.preflight.scope import mysql_scope, postgres_scope
from lifeline.preflight.units import parse_size
from lifeline.settings import MariaDBSettings, Settings


def add_parser(subparsers: Any) -> None:
    """Register ``preflight`` and its ``postgres`` and ``mysql`` kinds."""
    parser = subparsers.add_parser(
        "preflight",
        help="check a source database against what Debezium needs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    _postgres_parser(kinds)
    _mysql_parser(kinds)


def _postgres_parser(kinds: Any) -> None:
    postgres = kinds.add_parser("postgres", help="a PostgreSQL database")
    postgres.add_argument(
        "dsn",
        nargs="?",
        help="libpq DSN or URL of the role the connector logs in as "
        "(default: the settings' CDC role); or leave the password to PGPASSWORD",
    )
    postgres.add_argument("--tables", help="table.include.list to check")
    postgres.add_argument("--publication", help="publication to check")
    postgres.add_argument("--slot", help="replication slot to check")
    postgres.add_argument(
        "--max-retained-wal",
        type=_size,
        default=DEFAULT_MAX_RETAINED_WAL,
        help="report inactive slots keeping more WAL than this (default 1GB)",
    )
    _common(postgres)
    postgres.set_defaults(handler=run_postgres)


def _mysql_parser(kinds: Any) -> None:
    mysql = kinds.add_parser("mysql", help="a MySQL or MariaDB server")
    mysql.add_argument(
        "dsn",
        nargs="?",
        help="mysql://user:pass@host:port/db of the user the connector logs in "
        "as (default: the settings' CDC user); or leave the password to MYSQL_PWD",
    )
    mysql.add_argument("--databases", help="database.include.list to check")
    mysql.add_argument("--tables", help="table.include.list to check")
    mysql.add_argument(
        "--min-binlog-days",
        type=float,
        default=DEFAULT_MIN_BINLOG_DAYS,
        help="report binary log retention shorter than this (default 3)",
    )
    _common(mysql)
    mysql.set_defaults(handler=run_mysql)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connector", help="the template in connectors/ giving the defaults"
    )
    parser.add_argument(
        "--fix", action="store_true", help="apply the online fixes, shown first"
    )
    parser.add_argument("--yes", action="store_true", help="with --fix: do not ask")
    parser.add_argument("--admin-dsn", help="with --fix: who runs the fixes")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_postgres(args: argparse.Namespace, settings: Settings) -> int:
    """Check (and with ``--fix`` repair) a PostgreSQL database; the exit code."""
    scope = postgres_scope(
        settings,
        args.connector,
        tables=args.tables,
        publication=args.publication,
        slot=args.slot,
    )
    dsn = args.dsn or default_postgres_dsn(settings.postgres)
    limits = PostgresLimits(max_retained_wal=args.max_retained_wal)
    report = preflight_postgres(dsn, scope, limits)
    print(render_report(report), flush=True)
    if not args.fix or report.exit_code == 0:
        return report.exit_code
    admin = args.admin_dsn or (dsn if args.dsn else settings.postgres.dsn())
    with _postgres_executor(admin) as execute:
        applied = _fix(args, report, execute, postgres_display(admin))
    return recheck(report, applied, lambda: preflight_postgres(dsn, scope, limits))


def run_mysql(args: argparse.Namespace, settings: Settings) -> int:
    """Check (and with ``--fix`` repair) a MySQL/MariaDB server; the exit code."""
    scope = mysql_scope(
        settings, args.connector, databases=args.databases, tables=args.tables
    )
    dsn = parse_mysql_dsn(args.dsn) if args.dsn else default_mysql_dsn(settings.mariadb)
    limits = MySQLLimits(min_binlog_days=args.min_binlog_days)
    report = preflight_mysql(dsn, scope, limits)
    print(render_report(report), flush=True)
    if not args.fix or report.exit_code == 0:
        return report.exit_code
    admin = _mysql_admin(args, dsn, settings.mariadb)
    with _mysql_executor(admin) as execute:
        applied = _fix(args, report, execute, admin.display)
    return recheck(report, applied, lambda: preflight_mysql(dsn, scope, limits))


def _fix(args: argparse.Namespace, report: Report, execute: Execute, who: str) -> int:
    """Offer the online fixes; how many were applied."""
    confirm = (lambda _statement: True) if args.yes else ask
    print()
    applied = apply_fixes(report, execute, confirm, sys.stdout, who)
    print()
    return applied


def recheck(report: Report, applied: int, check: Callable[[], Report]) -> int:
    """The exit code after ``--fix``: ``check`` again only if a fix was applied.

    With nothing applied the database is as ``report`` found it, so that
    report (already printed) stands; otherwise the new report is printed.
    """
    if not applied:
        print(f"no fix applied: the report above stands (exit {report.exit_code})")
        return report.exit_code
    again = check()
    print(render_report(again))
    return again.exit_code


def _mysql_admin(
    args: argparse.Namespace, dsn: MySQLDsn, db: MariaDBSettings
) -> MySQLDsn:
    if args.admin_dsn:
        return parse_mysql_dsn(args.admin_dsn)
    if args.dsn:
        return dsn
    password = db.password.get_secret_value()
    return MySQLDsn(db.host, db.port, db.user, password, db.database)


@contextmanager
def _postgres_executor(dsn: str) -> Iterator[Execute]:
    secrets = [postgres_password(dsn)]
    try:
        with connect_postgres(dsn) as conn:

            def execute(statement: str) -> None:
                conn.execute(statement)

            yield execute
    except psycopg.Error as exc:
        msg = f"fix failed as {postgres_display(dsn)}: {mask(str(exc), secrets)}"
        raise FatalError(msg.strip()) from exc


@contextmanager
def _mysql_executor(dsn: MySQLDsn) -> Iterator[Execute]:
    try:
        conn = connect_mysql(dsn)
        try:

            def execute(statement: str) -> None:
                with conn.cursor() as cursor:
                    cursor.execute(statement)

            yield execute
        finally:
            conn.close()
    except pymysql.MySQLError as exc:
        msg = f"fix failed as {dsn.display}: {mask(str(exc), [dsn.password])}"
        raise FatalError(msg) from exc
