"""Reading source rows in large batches from the ERP and identity databases.

A table is read with one query through a server-side cursor (MariaDB's
unbuffered cursor, a PostgreSQL named cursor), so memory stays flat
whatever its size, and each read is a consistent snapshot of the table.
Whether a row changed inside the grace period is decided by the database,
on its own clock, in the same query. Re-checks fetch rows by id, a
thousand at a time.

Connection and query errors leave as the sample databases' errors do
(:func:`lifeline.samples.schema.erp_connection`): a
:class:`~lifeline.errors.RetryableError` or
:class:`~lifeline.errors.FatalError` naming the server.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Any

import psycopg
import pymysql
import pymysql.cursors
from psycopg import sql

from lifeline.reconcile.classify import SourceRow
from lifeline.reconcile.model import Engine, ReconcileTable
from lifeline.samples.schema import (
    IDENTITY_SCHEMA,
    erp_connection,
    identity_connection,
    quote_mariadb_identifier,
)
from lifeline.settings import Settings

FETCH_CHUNK = 1000
_CURSOR_NAME = "lifeline_reconcile"


def like_prefix(prefix: str) -> str:
    """A ``LIKE`` pattern matching strings that start with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class SourceDatabases:
    """Connections to the source databases, opened on first use.

    Use as a context manager; leaving it closes every connection.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stack = ExitStack()
        self._mariadb: pymysql.connections.Connection | None = None
        self._postgres: psycopg.Connection[Any] | None = None

    def __enter__(self) -> SourceDatabases:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stack.__exit__(kind, error, trace)

    def connect(self, engines: set[Engine]) -> None:
        """Open the connections now (to fail early, naming the server)."""
        for engine in engines:
            if engine is Engine.MARIADB:
                self._erp()
            else:
                self._identity()

    def stream(
        self,
        table: ReconcileTable,
        *,
        batch_size: int,
        grace: float,
        id_prefix: str = "",
    ) -> Iterator[list[SourceRow]]:
        """Every row of ``table`` (ids starting with ``id_prefix``), in batches."""
        if table.engine is Engine.MARIADB:
            return self._stream_mariadb(table, batch_size, grace, id_prefix)
        return self._stream_postgres(table, batch_size, grace, id_prefix)

    def fetch(
        self, table: ReconcileTable, row_ids: Sequence[str], *, grace: float
    ) -> list[SourceRow]:
        """The rows of ``table`` with these ids that exist now."""
        rows: list[SourceRow] = []
        for start in range(0, len(row_ids), FETCH_CHUNK):
            chunk = list(row_ids[start : start + FETCH_CHUNK])
            if table.engine is Engine.MARIADB:
                rows.extend(self._fetch_mariadb(table, chunk, grace))
            else:
                rows.extend(self._fetch_postgres(table, chunk, grace))
        return rows

    def _erp(self) -> pymysql.connections.Connection:
        if self._mariadb is None:
            self._mariadb = self._stack.enter_context(erp_connection(self._settings))
        return self._mariadb

    def _identity(self) -> psycopg.Connection[Any]:
        if self._postgres is None:
            self._postgres = self._stack.enter_context(
                identity_connection(self._settings)
            )
        return self._postgres

    def _stream_mariadb(
        self, table: ReconcileTable, batch_size: int, grace: float, id_prefix: str
    ) -> Iterator[list[SourceRow]]:
        where, params = "", [*_grace_params(table, grace)]
        if id_prefix:
            where = f"WHERE {quote_mariadb_identifier(table.id_column)} LIKE %s"
            params.append(like_prefix(id_prefix))
        conn = self._erp()
        with conn.cursor(pymysql.cursors.SSCursor) as cursor:
            cursor.execute(_mariadb_select(table, where), params)
            while batch := cursor.fetchmany(batch_size):
                yield _rows(table, batch)
        conn.commit()  # ends the snapshot: a re-check must see newer rows

    def _fetch_mariadb(
        self, table: ReconcileTable, row_ids: list[str], grace: float
    ) -> list[SourceRow]:
        marks = ", ".join(["%s"] * len(row_ids))
        where = f"WHERE {quote_mariadb_identifier(table.id_column)} IN ({marks})"
        conn = self._erp()
        with conn.cursor() as cursor:
            cursor.execute(
                _mariadb_select(table, where), [*_grace_params(table, grace), *row_ids]
            )
            found = _rows(table, cursor.fetchall())
        conn.commit()
        return found

    def _stream_postgres(
        self, table: ReconcileTable, batch_size: int, grace: float, id_prefix: str
    ) -> Iterator[list[SourceRow]]:
        where: sql.Composable = sql.SQL("")
        params = _grace_params(table, grace)
        if id_prefix:
            where = sql.SQL("WHERE {} LIKE %s").format(sql.Identifier(table.id_column))
            params.append(like_prefix(id_prefix))
        conn = self._identity()
        with conn.cursor(name=_CURSOR_NAME) as cursor:
            cursor.itersize = batch_size
            cursor.execute(_postgres_select(table, where), params)
            while batch := cursor.fetchmany(batch_size):
                yield _rows(table, batch)
        conn.commit()

    def _fetch_postgres(
        self, table: ReconcileTable, row_ids: list[str], grace: float
    ) -> list[SourceRow]:
        where = sql.SQL("WHERE {}::text = ANY(%s)").format(
            sql.Identifier(table.id_column)
        )
        conn = self._identity()
        with conn.cursor() as cursor:
            cursor.execute(
                _postgres_select(table, where), [*_grace_params(table, grace), row_ids]
            )
            found = _rows(table, cursor.fetchall())
        conn.commit()
        return found


def _grace_params(table: ReconcileTable, grace: float) -> list[Any]:
    return [] if table.updated_column is None else [grace]


def _mariadb_select(table: ReconcileTable, where: str) -> str:
    quote = quote_mariadb_identifier
    columns = ", ".join(quote(c) for c in (table.id_column, *table.selected_columns()))
    recent = "FALSE"
    if table.updated_column is not None:
        recent = f"{quote(table.updated_column)} >= NOW(3) - INTERVAL %s SECOND"
    # Identifiers come from the ownership file and the party model, quoted.
    return f"SELECT {columns}, {recent} FROM {quote(table.table)} {where}"  # noqa: S608


def _postgres_select(table: ReconcileTable, where: sql.Composable) -> sql.Composed:
    columns = sql.SQL(", ").join(
        sql.Identifier(c) for c in (table.id_column, *table.selected_columns())
    )
    recent: sql.Composable = sql.SQL("FALSE")
    if table.updated_column is not None:
        recent = sql.SQL("{} >= now() - %s * interval '1 second'").format(
            sql.Identifier(table.updated_column)
        )
    return sql.SQL("SELECT {}, {} FROM {} {}").format(
        columns, recent, sql.Identifier(IDENTITY_SCHEMA, table.table), where
    )


def _rows(table: ReconcileTable, batch: Sequence[Sequence[Any]]) -> list[SourceRow]:
    columns = table.selected_columns()
    width = len(columns)
    return [
        SourceRow(
            table,
            str(values[0]),
            dict(zip(columns, values[1 : width + 1], strict=True)),
            bool(values[width + 1]),
        )
        for values in batch
    ]
