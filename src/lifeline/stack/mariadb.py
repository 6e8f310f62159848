"""The ERP database: a MariaDB server writing a row-based binary log.

The managed instance lives in ``state/mariadb`` and runs the machine's own
``mariadbd`` with ``--no-defaults`` (the machine's ``/etc/mysql`` files never
apply), bound to the configured loopback address, with ``log_bin`` on,
``binlog_format=ROW`` and ``binlog_row_image=FULL`` for Debezium. Its root
account is reachable only through the private socket by the OS account that
started it; Lifeline's admin user is created on the first start.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pymysql

from lifeline.errors import ComponentError
from lifeline.settings import Settings
from lifeline.stack.process import ManagedProcess
from lifeline.stack.server import ServerComponent, one_line
from lifeline.stack.server_binaries import mariadb_binaries

logger = logging.getLogger(__name__)

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 60.0
_SOCKET_PATH_MAX = 107
_BOOTSTRAPPED_MARKER = "lifeline-admin-created"
# Server answered, but refused the login: up, with a credentials problem.
_AUTH_ERRORS = frozenset({1044, 1045, 1698, 4151})
_SERVER_OPTIONS = (
    "--log-bin=binlog",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    # DATETIME defaults such as CURRENT_TIMESTAMP(3) are then in UTC.
    "--default-time-zone=+00:00",
)


class MariaDB(ServerComponent):
    """The MariaDB component of the local stack."""

    name = "mariadb"
    probe_errors = (pymysql.MySQLError,)
    start_timeout = _START_TIMEOUT
    stop_timeout = _STOP_TIMEOUT

    def __init__(self, settings: Settings) -> None:
        self._db = settings.mariadb
        self.data_dir = settings.state_path / "mariadb"
        run_dir = settings.state_path / "run"
        self.socket = run_dir / "mariadb.sock"
        self._init_file = run_dir / "mariadb.init.sql"
        process = ManagedProcess(self.name, run_dir)
        super().__init__(self._db.host, self._db.port, self._db.managed, process)

    def _start_finished(self, ready: bool) -> None:
        # The init file holds the admin password: never leave it behind.
        self._init_file.unlink(missing_ok=True)
        if ready:
            (self.data_dir / _BOOTSTRAPPED_MARKER).touch()

    # --- starting ---------------------------------------------------------

    def _launch(self) -> None:
        if len(str(self.socket)) > _SOCKET_PATH_MAX:
            reason = f"socket path {self.socket} is too long; use a shorter state_dir"
            raise ComponentError(self.name, reason)
        binaries = mariadb_binaries()
        if not (self.data_dir / "mysql").is_dir():
            self._install_db(binaries.install_db)
        argv = self._server_argv(binaries.server)
        if not (self.data_dir / _BOOTSTRAPPED_MARKER).exists():
            self._write_init_file()
            argv.append(f"--init-file={self._init_file}")
        self._process.spawn(argv)

    def _install_db(self, install_db: Path) -> None:
        """Create the system tables; root may log in only over the socket."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(install_db),
            "--no-defaults",
            f"--datadir={self.data_dir}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            "--skip-name-resolve",
            *_user_option(),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-4000:]
            raise ComponentError(self.name, "mariadb-install-db failed", tail)
        logger.info("initialised component=%s data_dir=%s", self.name, self.data_dir)

    def _server_argv(self, server: Path) -> list[str]:
        argv = [
            str(server),
            "--no-defaults",  # must come first
            f"--datadir={self.data_dir}",
            f"--port={self._db.port}",
            f"--bind-address={self._db.host}",
            f"--socket={self.socket}",
            f"--pid-file={self.data_dir / 'mariadbd.pid'}",
            f"--server-id={self._db.server_id}",
            f"--expire-logs-days={self._db.binlog_expire_days}",
            *_SERVER_OPTIONS,
            *_user_option(),
        ]
        if self._db.version_spoof:
            # Local-stack workaround only (see MariaDBSettings.version_spoof):
            # Debezium 3.6.3 misdetects MariaDB 10.11 unless it reports 5.7.
            argv.append(f"--version={self._db.version_spoof}")
        return argv

    def _write_init_file(self) -> None:
        """Write the SQL the server runs before it accepts clients: the admin."""
        user = _quote(self._db.user)
        password = _quote(self._db.password.get_secret_value())
        sql = (
            f"CREATE USER IF NOT EXISTS {user}@'%' IDENTIFIED BY {password};\n"
            f"ALTER USER {user}@'%' IDENTIFIED BY {password};\n"
            f"GRANT ALL PRIVILEGES ON *.* TO {user}@'%' WITH GRANT OPTION;\n"
        )
        self._init_file.parent.mkdir(parents=True, exist_ok=True)
        self._init_file.unlink(missing_ok=True)
        fd = os.open(self._init_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(sql)

    def _check_credentials(self) -> None:
        try:
            self._server_facts()
        except pymysql.MySQLError as exc:
            reason = (
                f"the server runs but refuses user {self._db.user} "
                f"({one_line(exc)}); was {self.data_dir} initialised with other "
                "credentials?"
            )
            raise ComponentError(self.name, reason) from exc

    # --- probes -----------------------------------------------------------

    def _ready_probe(self) -> bool:
        """Tell whether the server answers, even if it refuses the login."""
        try:
            self._server_facts()
        except pymysql.OperationalError as exc:
            if exc.args and exc.args[0] in _AUTH_ERRORS:
                return True
            raise
        return True

    def _server_facts(self) -> str:
        """Return the reported version and binlog settings (TCP, admin user)."""
        conn = pymysql.connect(**self._tcp_kwargs())
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT @@version, @@log_bin, @@binlog_format")
                row = cursor.fetchone()
        finally:
            conn.close()
        version, log_bin, binlog_format = row if row else ("?", "?", "?")
        log_bin_text = "ON" if log_bin == 1 else "OFF"
        return (
            f"version={version}, log_bin={log_bin_text}, binlog_format={binlog_format}"
        )

    def _tcp_kwargs(self) -> dict[str, Any]:
        return {
            "host": self._db.host,
            "port": self._db.port,
            "user": self._db.user,
            "password": self._db.password.get_secret_value(),
            "connect_timeout": 2,
            "read_timeout": 5,
        }


def _user_option() -> list[str]:
    """Return the option without which mariadbd refuses to run as root."""
    return ["--user=root"] if os.geteuid() == 0 else []


def _quote(value: str) -> str:
    """Quote a MariaDB string literal (default sql_mode: backslash escapes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
