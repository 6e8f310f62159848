"""Background processes owned by the stack: pid files, logs, readiness waits."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from lifeline.errors import ComponentError

logger = logging.getLogger(__name__)


class ManagedProcess:
    """A daemon Lifeline started, remembered by a pid file under ``state/``.

    The pid file holds the pid and the start time; a stale pid file (process
    gone, or the pid reused by an unrelated program) counts as not running.
    """

    def __init__(self, name: str, run_dir: Path) -> None:
        self.name = name
        self.run_dir = run_dir
        self.pid_file = run_dir / f"{name}.pid"
        self.log_file = run_dir / f"{name}.log"

    def pid(self) -> int | None:
        """The pid of the live process this object started, else ``None``."""
        try:
            text = self.pid_file.read_text().split()
        except FileNotFoundError:
            return None
        if not text or not text[0].isdigit():
            return None
        pid = int(text[0])
        return pid if _alive(pid) else None

    def exited(self) -> bool:
        """True when a process was started and died without ``terminate``."""
        return self.pid_file.exists() and self.pid() is None

    def started_at(self) -> datetime | None:
        """When the running process was started, from its pid file."""
        if self.pid() is None:
            return None
        return datetime.fromtimestamp(self.pid_file.stat().st_mtime, tz=UTC)

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> int:
        """Start ``argv`` detached from the terminal, logging to the log file.

        ``user`` runs the command as another account (used for PostgreSQL,
        which refuses to run as root).
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        command = list(argv)
        if user is not None and os.geteuid() == 0:
            command = ["runuser", "-u", user, "--", *command]
        # Keep one previous log, so a log tail only ever shows this run.
        if self.log_file.exists():
            self.log_file.replace(self.log_file.with_suffix(".log.1"))
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        self.write_pid(proc.pid)
        logger.info("spawned component=%s pid=%d", self.name, proc.pid)
        return proc.pid

    def write_pid(self, pid: int) -> None:
        """Record ``pid`` as this component's process."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(f"{pid}\n")

    def terminate(self, timeout: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after ``timeout``; True if it ran."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            logger.warning(
                "kill component=%s pid=%d after=%.0fs", self.name, pid, timeout
            )
            _signal(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        logger.info("stopped component=%s pid=%d", self.name, pid)
        return True

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the component's log, for error messages."""
        try:
            data = self.log_file.read_bytes()[-16384:]
        except FileNotFoundError:
            return ""
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    component: str,
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.2,
) -> None:
    """Poll ``check`` until it is true; raise ComponentError after ``timeout``.

    When ``process`` is given and its process dies while waiting, fail at once
    with its log tail instead of waiting out the timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            last = ""
        if process is not None and process.pid() is None:
            raise ComponentError(
                component,
                f"process exited while waiting for {what}",
                process.log_tail(),
            )
        if time.monotonic() > deadline:
            tail = process.log_tail() if process is not None else ""
            reason = f"not {what} after {timeout:.0f}s"
            if last:
                reason += f" (last probe: {last})"
            raise ComponentError(component, reason, tail)
        time.sleep(interval)
