"""A PostgreSQL and a MariaDB of our own, started once for the preflight tests.

Both run from the machine's binaries with Lifeline's stack components, in a
fresh world-traversable temporary state directory (PostgreSQL runs as the
``postgres`` account), on free ports from ``tests.ports.free_port``
(30000-32700), with the sample schemas, CDC accounts and publication
applied. If one cannot start, every test using it fails with the
component's error: nothing is skipped. Tests break settings, grants and
tables on purpose and put them back.
"""

from __future__ import annotations

import argparse
import io
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from lifeline.preflight import command
from lifeline.samples import schema
from lifeline.settings import Settings
from lifeline.stack.mariadb import MariaDB
from lifeline.stack.postgres import Postgres
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "adm-Pw-4471"
CDC_PASSWORD = "cdc-Pw-9023"


@dataclass
class Databases:
    settings: Settings
    postgres: Postgres
    mariadb: MariaDB

    def pg_dsn(self, *, admin: bool = False, password: str | None = None) -> str:
        pg = self.settings.postgres
        user = pg.user if admin else pg.cdc_user
        secret = password or (ADMIN_PASSWORD if admin else CDC_PASSWORD)
        return (
            f"host={pg.host} port={pg.port} dbname={pg.database} "
            f"user={user} password={secret}"
        )

    def my_dsn(self, *, admin: bool = False, password: str | None = None) -> str:
        db = self.settings.mariadb
        user = db.user if admin else db.cdc_user
        secret = password or (ADMIN_PASSWORD if admin else CDC_PASSWORD)
        return f"mysql://{user}:{secret}@{db.host}:{db.port}/{db.database}"

    def pg(self, *statements: str) -> list[tuple[Any, ...]]:
        """Run statements as the admin; the rows of the last one."""
        rows: list[tuple[Any, ...]] = []
        with psycopg.connect(self.pg_dsn(admin=True), autocommit=True) as conn:
            for statement in statements:
                cursor = conn.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows

    def my(self, *statements: str) -> list[tuple[Any, ...]]:
        """Run statements as the admin; the rows of the last one."""
        db = self.settings.mariadb
        conn = pymysql.connect(
            host=db.host,
            port=db.port,
            user=db.user,
            password=ADMIN_PASSWORD,
            autocommit=True,
        )
        rows: list[tuple[Any, ...]] = []
        try:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                    rows = list(cursor.fetchall())
        finally:
            conn.close()
        return rows


def _state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lifeline-preflight-"))
    path.chmod(path.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    return path


def _settings(state_dir: Path) -> Settings:
    accounts = {
        "managed": True,
        "host": "127.0.0.1",
        "password": ADMIN_PASSWORD,
        "cdc_password": CDC_PASSWORD,
    }
    return Settings.model_validate(
        {
            "state_dir": state_dir,
            "postgres": {**accounts, "port": free_port()},
            "mariadb": {**accounts, "port": free_port()},
        }
    )


@pytest.fixture(autouse=True)
def _checkout_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults come from the checkout's connectors/, whatever the cwd."""
    monkeypatch.setenv("LIFELINE_CONNECTORS_DIR", str(ROOT / "connectors"))


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    state_dir = _state_dir()
    settings = _settings(state_dir)
    found = Databases(settings, Postgres(settings), MariaDB(settings))
    try:
        found.postgres.start()
        found.mariadb.start()
        schema.apply_schemas(settings)
        yield found
    finally:
        found.mariadb.stop()
        found.postgres.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def run_preflight(settings: Settings, *argv: str) -> tuple[int, str]:
    """Run ``lifeline preflight ARGV`` through the command's parser."""
    parser = argparse.ArgumentParser(prog="lifeline")
    command.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["preflight", *argv])
    out = io.StringIO()
    with redirect_stdout(out):
        code: int = args.handler(args, settings)
    return code, out.getvalue()


def results(output: str) -> dict[str, set[str]]:
    """Check name -> the results it got in the first table of ``output``."""
    found: dict[str, set[str]] = {}
    table = output.split("\n\n", 1)[0]
    for line in table.splitlines():
        result, _, rest = line.partition("  ")
        if result in ("pass", "warn", "fail"):
            name = rest.strip().split("  ", 1)[0]
            found.setdefault(name, set()).add(result)
    return found
