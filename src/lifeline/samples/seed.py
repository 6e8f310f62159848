"""Fake customers for the sample ERP and identity databases.

:func:`generate` is pure and deterministic: the same ``n`` and ``seed`` give
the same rows. About 60% of the ``n`` parties exist in both systems, 25% only
in the ERP and 15% only in identity, with the differences real data has
(listed in :data:`VARIATIONS` and recorded per party, so tests can check a
resolver against the truth). :func:`load` inserts the rows into both
databases; :func:`apply_schemas` must have run first. :func:`load_report`
says what a load inserted and what was already there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import sql

from lifeline.samples._generator import Generator
from lifeline.samples.records import SeedData, column_names
from lifeline.samples.schema import (
    apply_schemas,
    erp_connection,
    identity_connection,
    quote_mariadb_identifier,
)
from lifeline.settings import Settings
from lifeline.wording import counted

__all__ = ["VARIATIONS", "Loaded", "apply_schemas", "generate", "load", "load_report"]

logger = logging.getLogger(__name__)

VARIATIONS = (
    "email_case",  # the ERP e-mail differs only in letter case
    "email_whitespace",  # the ERP e-mail has whitespace around it
    "email_different",  # each system has another address
    "erp_no_email",  # the ERP customer has no e-mail
    "shared_mailbox",  # the ERP has the company's accounts@ mailbox
    "name_typo",  # a typo in a name on one side
    "name_form",  # 'Jane A. Doe', 'Doe, Jane', 'Dr. Jane Doe', 'JANE DOE'
    "nickname",  # identity has a nickname as given name ('Bill')
    "ascii_name",  # the ERP spells 'Mueller' where identity has 'Müller'
    "no_tax_id",  # the ERP customer has no tax id
    "tax_id_format",  # the same tax id, spaced differently
    "phone_format",  # the same phone number in national form
    "external_id",  # identity links the user to its ERP customer_no
    "erp_duplicate",  # the ERP holds the customer twice
)


def generate(n: int, seed: int = 0) -> SeedData:
    """``n`` fake parties and their records in both systems; pure, deterministic.

    Raises ValueError when ``n`` is negative.
    """
    if n < 0:
        msg = f"n must be zero or more, got {n}"
        raise ValueError(msg)
    return Generator(seed).run(n)


@dataclass(frozen=True, slots=True)
class Loaded:
    """Rows per table (``erp.customers``, ``identity.users``, ...) of one load.

    ``offered`` counts the rows :func:`load` sent, ``inserted`` those the
    database inserted; the rest had a key that already existed.
    """

    offered: Mapping[str, int]
    inserted: Mapping[str, int]

    def already_there(self, table: str) -> int:
        """Rows of ``table`` left as they were: their key already existed."""
        return self.offered.get(table, 0) - self.inserted.get(table, 0)


def load(settings: Settings, data: SeedData, *, batch_size: int = 2000) -> Loaded:
    """Insert ``data`` into the ERP and identity databases; what was inserted.

    Each database is loaded in one transaction, parents before children, in
    batches of ``batch_size`` rows. Rows whose key already exists are left as
    they are, so loading the same data again changes nothing. Raises
    :class:`~lifeline.errors.RetryableError` when a database is unreachable
    and :class:`~lifeline.errors.FatalError` on any other database error.
    """
    began = time.monotonic()
    inserted = {
        **_load_erp(settings, data, batch_size),
        **_load_identity(settings, data, batch_size),
    }
    offered = {
        **{f"erp.{t}": len(rows) for t, rows in data.erp_tables().items()},
        **{f"identity.{t}": len(rows) for t, rows in data.identity_tables().items()},
    }
    logger.info(
        "seed loaded parties=%d customers=%d users=%d inserted=%d seconds=%.2f",
        len(data.parties),
        len(data.customers),
        len(data.users),
        sum(inserted.values()),
        time.monotonic() - began,
    )
    return Loaded(offered=offered, inserted=inserted)


def load_report(parties: int, seed: int, loaded: Loaded) -> str:
    """One line: the customers generated, then inserted versus already there."""
    customers = loaded.inserted.get("erp.customers", 0)
    users = loaded.inserted.get("identity.users", 0)
    had_customers = loaded.already_there("erp.customers")
    had_users = loaded.already_there("identity.users")
    line = (
        f"generated {counted(parties, 'fake customer')} (seed {seed}): inserted "
        f"{counted(customers, 'ERP customer')}, {counted(users, 'identity user')}"
    )
    if had_customers or had_users:
        line += (
            f"; {counted(had_customers, 'ERP customer')} and "
            f"{counted(had_users, 'identity user')} were already there, "
            "left as they were"
        )
    return line


def _load_erp(settings: Settings, data: SeedData, batch_size: int) -> dict[str, int]:
    """Rows inserted per ``erp.<table>``."""
    inserted: dict[str, int] = {}
    with erp_connection(settings) as conn, conn.cursor() as cursor:
        for table, rows in data.erp_tables().items():
            inserted[f"erp.{table}"] = 0
            if not rows:
                continue
            columns = column_names(type(rows[0]))
            names = ", ".join(quote_mariadb_identifier(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            # Identifiers come from the row types, values are bound.
            statement = (
                f"INSERT INTO {quote_mariadb_identifier(table)} ({names}) "  # noqa: S608
                f"VALUES ({marks}) ON DUPLICATE KEY UPDATE id = id"
            )
            for chunk in _chunks(rows, batch_size):
                # Affected rows: 1 per inserted row, 0 per existing key, as
                # "id = id" changes nothing (pymysql does not ask for
                # CLIENT_FOUND_ROWS, which would count those as 1).
                cursor.executemany(statement, [_erp_values(r, columns) for r in chunk])
                inserted[f"erp.{table}"] += max(cursor.rowcount, 0)
    return inserted


def _load_identity(
    settings: Settings, data: SeedData, batch_size: int
) -> dict[str, int]:
    """Rows inserted per ``identity.<table>``."""
    inserted: dict[str, int] = {}
    with identity_connection(settings) as conn, conn.cursor() as cursor:
        for table, rows in data.identity_tables().items():
            inserted[f"identity.{table}"] = 0
            if not rows:
                continue
            columns = column_names(type(rows[0]))
            statement = sql.SQL(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING"
            ).format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join([sql.Placeholder()] * len(columns)),
            )
            for chunk in _chunks(rows, batch_size):
                values = [tuple(getattr(r, c) for c in columns) for r in chunk]
                cursor.executemany(statement, values)
                # The sum over the batch; ON CONFLICT DO NOTHING skips count 0.
                inserted[f"identity.{table}"] += max(cursor.rowcount, 0)
    return inserted


def _erp_values(row: Any, columns: Sequence[str]) -> tuple[Any, ...]:
    """Column values for MariaDB: DATETIME columns take naive UTC."""
    return tuple(_naive_utc(getattr(row, column)) for column in columns)


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), max(size, 1)):
        yield rows[start : start + size]
