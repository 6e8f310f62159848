"""The identity database: a PostgreSQL server with logical decoding on.

The managed instance lives in ``state/postgres`` and runs the machine's own
PostgreSQL binaries under the ``postgres`` account (PostgreSQL refuses to run
as root; a non-root user runs it as themselves). It listens on the configured
loopback address with ``wal_level=logical``. TCP clients must give a password
(scram-sha-256); the private socket directory ``state/run/pg`` trusts local
connections and is used only to tell "not up yet" from "wrong password".
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from lifeline.errors import ComponentError
from lifeline.settings import Settings
from lifeline.stack.process import ManagedProcess
from lifeline.stack.server import ServerComponent, one_line
from lifeline.stack.server_binaries import POSTGRES_PACKAGE, postgres_binaries

logger = logging.getLogger(__name__)

SERVER_ACCOUNT = "postgres"
MAINTENANCE_DB = "postgres"
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0
_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes, NUL included
_SERVER_OPTIONS = (
    "wal_level=logical",
    "max_replication_slots=10",
    "max_wal_senders=10",
    "unix_socket_permissions=0700",
)
# ``samehost`` matches only the server's own addresses, i.e. local clients.
_PG_HBA = """\
# Written by Lifeline for its managed instance.
# The socket directory is private (0700): only the server account and root
# reach the trust line. Every TCP client must give a password.
local   all          all                  trust
host    all          all       samehost   scram-sha-256
host    replication  all       samehost   scram-sha-256
"""


class Postgres(ServerComponent):
    """The PostgreSQL component of the local stack."""

    name = "postgres"
    probe_errors = (psycopg.Error,)
    start_timeout = _START_TIMEOUT
    stop_timeout = _STOP_TIMEOUT
    ready_what = "answering queries on its socket"

    def __init__(self, settings: Settings) -> None:
        self._pg = settings.postgres
        self.data_dir = settings.state_path / "postgres"
        run_dir = settings.state_path / "run"
        self.socket_dir = run_dir / "pg"
        process = ManagedProcess(self.name, run_dir)
        super().__init__(self._pg.host, self._pg.port, self._pg.managed, process)

    def _terminate(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected) of the managed server."""
        leader = self._process.pid()
        postmaster = self._postmaster_pid()
        if leader is not None and postmaster is not None:
            _interrupt_if_in_group(postmaster, leader)
            _wait_gone(self._process, _STOP_TIMEOUT)
        self._process.terminate(timeout=_STOP_TIMEOUT)
        if leader is not None:
            logger.info("stopped component=%s pid=%d", self.name, leader)

    def _launch(self) -> None:
        binaries = postgres_binaries(self._initialised_major())
        self._prepare_dirs()
        if self._initialised_major() is None:
            self._initdb(binaries.initdb)
        argv = [
            str(binaries.postgres),
            "-D",
            str(self.data_dir),
            "-p",
            str(self._pg.port),
            "-c",
            f"listen_addresses={self._pg.host}",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
        ]
        for option in _SERVER_OPTIONS:
            argv += ["-c", option]
        self._process.spawn(argv, user=SERVER_ACCOUNT)

    def _initialised_major(self) -> int | None:
        """Return the major version in ``PG_VERSION``, or None before initdb."""
        try:
            return int((self.data_dir / "PG_VERSION").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _prepare_dirs(self) -> None:
        """Create the data and socket directories, owned by the server account."""
        socket_path = self.socket_dir / f".s.PGSQL.{self._pg.port}"
        if len(str(socket_path)) > _SOCKET_PATH_MAX:
            reason = f"socket path {socket_path} is too long; use a shorter state_dir"
            raise ComponentError(self.name, reason)
        for directory in (self.data_dir, self.socket_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if _as_root():
                shutil.chown(directory, _account().pw_uid, _account().pw_gid)
        if _as_root():
            self._check_account_reaches_dirs()

    def _check_account_reaches_dirs(self) -> None:
        for directory in (self.data_dir, self.socket_dir):
            probe = ["test", "-w", str(directory), "-a", "-x", str(directory)]
            done = subprocess.run(_as_account(probe), capture_output=True, check=False)
            if done.returncode != 0:
                reason = (
                    f"the {SERVER_ACCOUNT} account cannot reach {directory}; make "
                    "its parent directories traversable (chmod o+x) or set "
                    "LIFELINE_STATE_DIR to a directory it can reach"
                )
                raise ComponentError(self.name, reason)

    def _initdb(self, initdb: Path) -> None:
        """Create the cluster with the admin role as its superuser."""
        password_file = self._process.run_dir / "postgres.initdb-password"
        _write_private(password_file, self._pg.password.get_secret_value())
        argv = [
            str(initdb),
            "-D",
            str(self.data_dir),
            "-U",
            self._pg.user,
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]
        try:
            done = subprocess.run(
                _as_account(argv), capture_output=True, text=True, check=False
            )
        finally:
            password_file.unlink(missing_ok=True)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-4000:]
            raise ComponentError(self.name, "initdb failed", tail)
        _write_private(self.data_dir / "pg_hba.conf", _PG_HBA)
        logger.info("initialised component=%s data_dir=%s", self.name, self.data_dir)

    def _check_credentials(self) -> None:
        try:
            self._server_facts()
        except psycopg.OperationalError as exc:
            reason = (
                f"the server runs but refuses user {self._pg.user} over TCP "
                f"({one_line(exc)}); was {self.data_dir} initialised with other "
                "credentials?"
            )
            raise ComponentError(self.name, reason) from exc

    # --- probes -----------------------------------------------------------

    def _ready_probe(self) -> bool:
        with psycopg.connect(
            host=str(self.socket_dir),
            port=self._pg.port,
            dbname=MAINTENANCE_DB,
            user=self._pg.user,
            connect_timeout=2,
        ) as conn:
            conn.execute("SELECT 1")
        return True

    def _server_facts(self) -> str:
        """Return version and WAL level, asked over TCP as the admin."""
        with psycopg.connect(**self._tcp_kwargs()) as conn:
            row = conn.execute(
                "SELECT current_setting('server_version'), current_setting('wal_level')"
            ).fetchone()
        version, wal_level = row if row else ("?", "?")
        return f"PostgreSQL {version}, wal_level={wal_level}"

    def _tcp_kwargs(self) -> dict[str, Any]:
        # The managed cluster always has the maintenance database; an external
        # server is probed on the database Lifeline will actually use.
        dbname = MAINTENANCE_DB if self._pg.managed else self._pg.database
        return {
            "host": self._pg.host,
            "port": self._pg.port,
            "dbname": dbname,
            "user": self._pg.user,
            "password": self._pg.password.get_secret_value(),
            "connect_timeout": 2,
            "autocommit": True,
        }

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return None
        return int(first) if first.strip().isdigit() else None


def _as_root() -> bool:
    return os.geteuid() == 0


def _account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError as exc:
        reason = (
            f"no '{SERVER_ACCOUNT}' account to run PostgreSQL as (it refuses root); "
            f"install the Debian package {POSTGRES_PACKAGE}"
        )
        raise ComponentError(Postgres.name, reason) from exc


def _as_account(argv: list[str]) -> list[str]:
    """``argv`` run as the server account when we are root, else unchanged."""
    if not _as_root():
        return argv
    return ["runuser", "-u", _account().pw_name, "--", *argv]


def _write_private(path: Path, text: str) -> None:
    """Write a 0600 file readable by the server account."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    if _as_root():
        shutil.chown(path, _account().pw_uid, _account().pw_gid)


def _interrupt_if_in_group(postmaster: int, leader: int) -> None:
    """SIGINT (fast shutdown) the postmaster, if it belongs to our process."""
    try:
        if os.getpgid(postmaster) != leader:
            logger.warning("postmaster pid=%d is not ours; not signalled", postmaster)
            return
        os.kill(postmaster, signal.SIGINT)
    except ProcessLookupError:
        return


def _wait_gone(process: ManagedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while process.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
