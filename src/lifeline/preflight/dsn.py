"""Connection strings for preflight, and keeping their passwords out of output.

PostgreSQL takes anything libpq takes (``host=.. dbname=..`` or a
``postgresql://`` URL; missing parts come from the ``PG*`` environment and
``~/.pgpass`` as usual). MySQL and MariaDB take
``mysql://user:password@host:port/database`` (``mariadb://`` is accepted too);
a password left out of the URL is read from ``MYSQL_PWD``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from lifeline.errors import FatalError
from lifeline.settings import MariaDBSettings, PostgresSettings

MASK = "********"
_MYSQL_SCHEMES = frozenset({"mysql", "mariadb"})
_MYSQL_DEFAULT_PORT = 3306


def mask(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by a mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


@dataclass(frozen=True, slots=True)
class MySQLDsn:
    """A parsed ``mysql://`` URL; ``repr`` and ``display`` hide the password."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str | None

    @property
    def display(self) -> str:
        """``user@host:port/database``, safe to print."""
        return f"{self.user}@{self.host}:{self.port}/{self.database or ''}"


def parse_mysql_dsn(text: str) -> MySQLDsn:
    """Parse a ``mysql://user:pass@host:port/db`` URL; FatalError when malformed.

    The error never repeats the URL, which may hold the password.
    """
    try:
        parts = urlsplit(text)
        port = parts.port or _MYSQL_DEFAULT_PORT
    except ValueError as exc:
        msg = "mysql DSN is not a valid URL (expected mysql://user:pass@host:port/db)"
        raise FatalError(msg) from exc
    if parts.scheme not in _MYSQL_SCHEMES or not parts.hostname or not parts.username:
        msg = "mysql DSN must look like mysql://user:pass@host:port/db"
        raise FatalError(msg)
    password = parts.password
    if password is None:
        password = os.environ.get("MYSQL_PWD", "")
    database = unquote(parts.path.lstrip("/")) or None
    return MySQLDsn(
        parts.hostname, port, unquote(parts.username), unquote(password), database
    )


def postgres_password(dsn: str) -> str | None:
    """The password written in a libpq DSN, if any (for masking output)."""
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return None
    return None if password is None else str(password)


def postgres_display(dsn: str) -> str:
    """``user@host:port/database`` of a libpq DSN, safe to print."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unparsable DSN)"
    user = str(parts.get("user") or os.environ.get("PGUSER", ""))
    host = str(parts.get("host") or os.environ.get("PGHOST", ""))
    port = str(parts.get("port") or os.environ.get("PGPORT", "5432"))
    dbname = str(parts.get("dbname") or os.environ.get("PGDATABASE", user))
    return f"{user}@{host}:{port}/{dbname}"


def default_postgres_dsn(pg: PostgresSettings) -> str:
    """The libpq DSN of the settings' CDC role (what the connector logs in as)."""
    return pg.dsn(admin=False)


def default_mysql_dsn(db: MariaDBSettings) -> MySQLDsn:
    """The settings' CDC user (what the connector logs in as)."""
    return MySQLDsn(
        db.host,
        db.port,
        db.cdc_user,
        db.cdc_password.get_secret_value(),
        db.database,
    )
