"""The sample source schemas and the least-privilege accounts Debezium uses.

:func:`apply_schemas` creates, idempotently, the ERP database in MariaDB and
the identity database in PostgreSQL, their tables (``sql/erp.sql``,
``sql/identity.sql``), the CDC accounts with only the privileges Debezium
needs, the ``lifeline_identity`` publication (created here by the admin,
so the connector never needs the right to create one), and the signal and
heartbeat tables of :mod:`lifeline.capture.signals`. It connects as the
admin accounts of the settings and never drops or alters existing data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources

import psycopg
import pymysql
from psycopg import sql

from lifeline.capture.signals import (
    ensure_mysql_signal_table,
    ensure_postgres_side_tables,
)
from lifeline.errors import FatalError, RetryableError
from lifeline.settings import MariaDBSettings, PostgresSettings, Settings

logger = logging.getLogger(__name__)

ERP_TABLES = (
    "customers",
    "orders",
    "order_lines",
    "invoices",
    "payments",
    "subscriptions",
)
IDENTITY_TABLES = ("users", "organisations", "memberships", "external_ids")
IDENTITY_SCHEMA = "public"
IDENTITY_PUBLICATION = "lifeline_identity"
# What Debezium's MySQL connector needs (BINLOG MONITOR only exists, and is
# only needed, on MariaDB 10.5+; it is left out where the server lacks it).
MARIADB_CDC_PRIVILEGES = (
    "SELECT",
    "RELOAD",
    "SHOW DATABASES",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "BINLOG MONITOR",
    "LOCK TABLES",
)
_MARIADB_UNAVAILABLE = frozenset({2002, 2003, 2006, 2013})
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


def apply_schemas(settings: Settings) -> None:
    """Create both sample databases, their tables, CDC accounts and publication."""
    apply_erp_schema(settings)
    apply_identity_schema(settings)


def apply_erp_schema(settings: Settings) -> None:
    """Create the ``erp`` database, its tables and the CDC user's grants."""
    db = settings.mariadb
    with (
        erp_connection(settings, select_database=False) as conn,
        conn.cursor() as cursor,
    ):
        name = quote_mariadb_identifier(db.database)
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS {name} "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        cursor.execute(f"USE {name}")
        for statement in split_statements(sql_text("erp.sql")):
            cursor.execute(statement)
        _ensure_mariadb_cdc_user(cursor, db)
        ensure_mysql_signal_table(cursor, settings)
    logger.info("schema applied system=erp database=%s", db.database)


def apply_identity_schema(settings: Settings) -> None:
    """Create the ``identity`` database, tables, CDC role and publication."""
    pg = settings.postgres
    _ensure_postgres_database(pg)
    with identity_connection(settings) as conn:
        conn.execute(sql_text("identity.sql"))
        _ensure_postgres_cdc_role(conn, pg)
        _ensure_publication(conn)
        ensure_postgres_side_tables(conn, settings, IDENTITY_PUBLICATION)
    logger.info(
        "schema applied system=identity database=%s publication=%s",
        pg.database,
        IDENTITY_PUBLICATION,
    )


def customer_count(settings: Settings) -> int:
    """Count the rows of ``erp.customers`` (the tables must exist)."""
    with erp_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM customers")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@contextmanager
def erp_connection(
    settings: Settings, *, select_database: bool = True
) -> Iterator[pymysql.connections.Connection]:
    """Open an admin connection to MariaDB; commit on success, else roll back.

    The connection uses the settings' ERP database unless ``select_database``
    is false (for creating it). MariaDB errors leave as
    :class:`RetryableError` (server unreachable) or :class:`FatalError`.
    """
    db = settings.mariadb
    with _mariadb_errors(db):
        conn = pymysql.connect(
            host=db.host,
            port=db.port,
            user=db.user,
            password=db.password.get_secret_value(),
            database=db.database if select_database else None,
            charset="utf8mb4",
            connect_timeout=5,
            autocommit=False,
        )
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()


@contextmanager
def identity_connection(
    settings: Settings, *, dbname: str | None = None
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Open an admin connection to PostgreSQL; commit on success, else roll back.

    ``dbname`` defaults to the settings' identity database. PostgreSQL errors
    leave as :class:`RetryableError` (server unreachable) or
    :class:`FatalError` (anything else).
    """
    pg = settings.postgres
    with (
        _postgres_errors(pg),
        psycopg.connect(
            host=pg.host,
            port=pg.port,
            dbname=dbname or pg.database,
            user=pg.user,
            password=pg.password.get_secret_value(),
            connect_timeout=5,
        ) as conn,
    ):
        yield conn


def sql_text(name: str) -> str:
    """Read ``samples/sql/<name>``, shipped with the package."""
    return resources.files("lifeline.samples").joinpath("sql", name).read_text("utf-8")


def split_statements(script: str) -> list[str]:
    """Split a script whose statements end with ``;`` at the end of a line.

    Whole-line ``--`` comments are dropped; semicolons inside strings or
    comments are not supported (the sample scripts have none).
    """
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    parts = _STATEMENT_END.split("\n".join(lines))
    return [part.strip() for part in parts if part.strip()]


def quote_mariadb_identifier(name: str) -> str:
    """Quote ``name`` as a MariaDB identifier."""
    return "`" + name.replace("`", "``") + "`"


def _ensure_mariadb_cdc_user(
    cursor: pymysql.cursors.Cursor, db: MariaDBSettings
) -> None:
    user, password = db.cdc_user, db.cdc_password.get_secret_value()
    cursor.execute(
        "CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password)
    )
    # Keeps the password in step with the settings when the user existed.
    cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password))
    cursor.execute("SHOW PRIVILEGES")
    known = {str(row[0]).upper() for row in cursor.fetchall()}
    privileges = [p for p in MARIADB_CDC_PRIVILEGES if p in known]
    cursor.execute(f"GRANT {', '.join(privileges)} ON *.* TO %s@'%%'", (user,))


def _ensure_postgres_database(pg: PostgresSettings) -> None:
    settings_db = sql.Identifier(pg.database)
    with (
        _postgres_errors(pg),
        psycopg.connect(
            host=pg.host,
            port=pg.port,
            dbname="postgres",
            user=pg.user,
            password=pg.password.get_secret_value(),
            connect_timeout=5,
            autocommit=True,
        ) as conn,
    ):
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (pg.database,)
        ).fetchone()
        if found is None:
            # Another process may create it between the check and here: fine.
            with suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(settings_db))


def _ensure_postgres_cdc_role(
    conn: psycopg.Connection[tuple[object, ...]], pg: PostgresSettings
) -> None:
    role = sql.Identifier(pg.cdc_user)
    found = conn.execute(
        "SELECT 1 FROM pg_roles WHERE rolname = %s", (pg.cdc_user,)
    ).fetchone()
    verb = sql.SQL("ALTER" if found else "CREATE")
    password = sql.Literal(pg.cdc_password.get_secret_value())
    conn.execute(
        sql.SQL("{} ROLE {} WITH LOGIN REPLICATION PASSWORD {}").format(
            verb, role, password
        )
    )
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(pg.database), role
        )
    )
    schema = sql.Identifier(IDENTITY_SCHEMA)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
    conn.execute(
        sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(_identity_tables(), role)
    )


def _ensure_publication(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Create the publication, or add tables it lacks; never drop any."""
    publication = sql.Identifier(IDENTITY_PUBLICATION)
    found = conn.execute(
        "SELECT 1 FROM pg_publication WHERE pubname = %s", (IDENTITY_PUBLICATION,)
    ).fetchone()
    if found is None:
        conn.execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
                publication, _identity_tables()
            )
        )
        return
    rows = conn.execute(
        "SELECT tablename FROM pg_publication_tables "
        "WHERE pubname = %s AND schemaname = %s",
        (IDENTITY_PUBLICATION, IDENTITY_SCHEMA),
    ).fetchall()
    present = {str(row[0]) for row in rows}
    for table in IDENTITY_TABLES:
        if table not in present:
            conn.execute(
                sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
                    publication, sql.Identifier(IDENTITY_SCHEMA, table)
                )
            )


def _identity_tables() -> sql.Composable:
    return sql.SQL(", ").join(
        sql.Identifier(IDENTITY_SCHEMA, table) for table in IDENTITY_TABLES
    )


@contextmanager
def _mariadb_errors(db: MariaDBSettings) -> Iterator[None]:
    try:
        yield
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args else None
        msg = f"mariadb at {db.host}:{db.port}: {exc}"
        if code in _MARIADB_UNAVAILABLE:
            raise RetryableError(msg) from exc
        raise FatalError(msg) from exc


@contextmanager
def _postgres_errors(pg: PostgresSettings) -> Iterator[None]:
    try:
        yield
    except psycopg.OperationalError as exc:
        msg = f"postgres at {pg.host}:{pg.port}: {exc}"
        raise RetryableError(msg) from exc
    except psycopg.Error as exc:
        msg = f"postgres at {pg.host}:{pg.port}: {exc}"
        raise FatalError(msg) from exc
