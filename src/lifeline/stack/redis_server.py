"""The lookup cache: a Redis server with an append-only file.

The managed instance keeps its data in ``state/redis`` (AOF on, RDB
snapshots off) and reads a config file Lifeline writes there on every start,
so the password never shows on a command line.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import redis

from lifeline.errors import ComponentError
from lifeline.settings import RedisSettings, Settings
from lifeline.stack.base import Component, ComponentStatus, State
from lifeline.stack.process import ManagedProcess, port_open, wait_until
from lifeline.stack.server_binaries import redis_server_binary

logger = logging.getLogger(__name__)

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0


class RedisServer(Component):
    """The Redis component of the local stack."""

    name = "redis"

    def __init__(self, settings: Settings) -> None:
        self._redis = settings.redis
        self.data_dir = settings.state_path / "redis"
        self.config_file = self.data_dir / "redis.conf"
        self._process = ManagedProcess(self.name, settings.state_path / "run")

    @property
    def address(self) -> str:
        """``host:port`` clients connect to."""
        return f"{self._redis.host}:{self._redis.port}"

    def start(self) -> None:
        """Start the server and wait until it answers PING with our credentials."""
        if not self._redis.managed:
            self._check_external()
            return
        if self._process.pid() is not None and self._answers():
            logger.debug("already running component=%s", self.name)
            return
        began = time.monotonic()
        if self._process.pid() is None:
            self._launch()
        wait_until(
            self.name,
            self._server_answers,
            timeout=_START_TIMEOUT,
            what="answering PING",
            process=self._process,
        )
        self._check_credentials()
        logger.info(
            "ready component=%s address=%s seconds=%.1f",
            self.name,
            self.address,
            time.monotonic() - began,
        )

    def stop(self) -> None:
        """Stop the managed server (SIGTERM: it flushes the append-only file)."""
        if self._redis.managed:
            self._process.terminate(timeout=_STOP_TIMEOUT)

    def status(self) -> ComponentStatus:
        """RUNNING/UNHEALTHY/STOPPED when managed, EXTERNAL/UNREACHABLE if not."""
        if not self._redis.managed:
            try:
                detail, state = self._server_facts(), State.EXTERNAL
            except redis.RedisError as exc:
                detail, state = _one_line(exc), State.UNREACHABLE
            return ComponentStatus(self.name, state, self.address, detail=detail)
        pid = self._process.pid()
        if pid is None:
            busy = port_open(self._redis.host, self._redis.port)
            detail = "port in use by a process Lifeline did not start" if busy else ""
            return ComponentStatus(
                self.name, State.STOPPED, self.address, detail=detail
            )
        try:
            detail, state = self._server_facts(), State.RUNNING
        except redis.RedisError as exc:
            detail, state = _one_line(exc), State.UNHEALTHY
        return ComponentStatus(
            self.name,
            state,
            self.address,
            pid=pid,
            started_at=self._process.started_at(),
            detail=detail,
        )

    def _launch(self) -> None:
        if port_open(self._redis.host, self._redis.port):
            reason = (
                f"port {self.address} is in use by a process Lifeline did not start"
            )
            raise ComponentError(self.name, reason)
        binary = redis_server_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._process.spawn([str(binary), str(self.config_file)])

    def _write_config(self) -> None:
        text = server_config(self._redis, str(self.data_dir))
        self.config_file.unlink(missing_ok=True)
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)

    def _check_credentials(self) -> None:
        try:
            self._server_facts()
        except redis.RedisError as exc:
            reason = f"the server runs but refuses our credentials ({_one_line(exc)})"
            raise ComponentError(self.name, reason) from exc

    def _server_answers(self) -> bool:
        """Tell whether the server answers, even if it refuses the credentials."""
        try:
            self._server_facts()
        except (redis.AuthenticationError, redis.ResponseError):
            return True  # wrong password, or an ACL that forbids INFO
        return True

    def _answers(self) -> bool:
        try:
            self._server_facts()
        except redis.RedisError:
            return False
        return True

    def _server_facts(self) -> str:
        client = redis.Redis(**self._client_kwargs())
        try:
            client.ping()
            info: dict[str, Any] = client.info("server")
            persistence: dict[str, Any] = client.info("persistence")
        finally:
            client.close()
        return (
            f"redis {info.get('redis_version', '?')}, "
            f"aof_enabled={persistence.get('aof_enabled', '?')}"
        )

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            **self._redis.client_kwargs(),
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        }

    def _check_external(self) -> None:
        try:
            self._server_facts()
        except redis.RedisError as exc:
            reason = f"external server at {self.address} not usable: {_one_line(exc)}"
            raise ComponentError(self.name, reason) from exc


def server_config(settings: RedisSettings, data_dir: str) -> str:
    """Return the redis.conf of the managed instance: loopback, AOF, no RDB."""
    lines = [
        "# Written by Lifeline on every start; edits are overwritten.",
        f"port {settings.port}",
        f"bind {settings.host}",
        "protected-mode yes",
        "daemonize no",
        'logfile ""',
        f"dir {_conf_quote(data_dir)}",
        'save ""',
        "appendonly yes",
        "appendfsync everysec",
        *_auth_lines(settings),
    ]
    return "\n".join(lines) + "\n"


def _auth_lines(settings: RedisSettings) -> list[str]:
    password = settings.password.get_secret_value() if settings.password else None
    if settings.username:
        secret = f">{password}" if password is not None else "nopass"
        return [
            "user default off",
            f"user {settings.username} on {_conf_quote(secret)} ~* &* +@all",
        ]
    if password is not None:
        return [f"requirepass {_conf_quote(password)}"]
    return []


def _conf_quote(value: str) -> str:
    """Quote a redis.conf argument: backslashes and double quotes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
