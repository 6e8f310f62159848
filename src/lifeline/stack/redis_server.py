"""The lookup cache: a Redis server with an append-only file.

The managed instance keeps its data in ``state/redis`` (AOF on, RDB
snapshots off) and reads a config file Lifeline writes there on every start,
so the password never shows on a command line.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import redis

from lifeline.settings import RedisSettings, Settings
from lifeline.stack.process import ManagedProcess
from lifeline.stack.server import ServerComponent
from lifeline.stack.server_binaries import redis_server_binary

logger = logging.getLogger(__name__)

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0


class RedisServer(ServerComponent):
    """The Redis component of the local stack."""

    name = "redis"
    probe_errors = (redis.RedisError,)
    start_timeout = _START_TIMEOUT
    stop_timeout = _STOP_TIMEOUT
    ready_what = "answering PING"

    def __init__(self, settings: Settings) -> None:
        self._redis = settings.redis
        self.data_dir = settings.state_path / "redis"
        self.config_file = self.data_dir / "redis.conf"
        process = ManagedProcess(self.name, settings.state_path / "run")
        super().__init__(
            self._redis.host, self._redis.port, self._redis.managed, process
        )

    def _launch(self) -> None:
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

    def _ready_probe(self) -> bool:
        """Tell whether the server answers, even if it refuses the credentials."""
        try:
            self._server_facts()
        except (redis.AuthenticationError, redis.ResponseError):
            return True  # wrong password, or an ACL that forbids INFO
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
