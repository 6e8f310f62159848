"""The Kafka Connect worker (distributed mode) that runs the Debezium connectors.

The worker keeps its connector configs, source offsets and statuses in three
internal topics named after its group id; they are created up front with one
partition because a broker may auto-create topics with several, which Connect
refuses for its config topic. Readiness means the REST API answers, both
Debezium connector plugins are loaded and the worker has joined its group.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from lifeline.errors import ComponentError
from lifeline.settings import ConnectSettings, Settings
from lifeline.stack.base import Component, ComponentStatus, State
from lifeline.stack.broker import create_topics
from lifeline.stack.jars import assemble_connect_classpath, connect_dir
from lifeline.stack.process import ManagedProcess, port_open, wait_until

logger = logging.getLogger(__name__)

NAME = "connect"
MAIN_CLASS = "org.apache.kafka.connect.cli.ConnectDistributed"
DEBEZIUM_PLUGINS = frozenset(
    {
        "io.debezium.connector.postgresql.PostgresConnector",
        "io.debezium.connector.mysql.MySqlConnector",
    }
)
_MIN_JAVA = 17
# The worker's own clients, then those of connector tasks and admin clients.
_CLIENT_PREFIXES = ("", "producer.", "consumer.", "admin.")
_JSON = "org.apache.kafka.connect.json.JsonConverter"
# Connect answers /health within its own 10 s health-check timeout.
_HEALTH_TIMEOUT = (1.0, 15.0)
_REST_TIMEOUT = (1.0, 10.0)
_JOIN_GRACE = 12.0
# A join normally takes about 3 s; one still running after this is stuck.
_STUCK_AFTER = 20.0
_STUCK_HINT = (
    "a worker stopped while joining can leave its group stuck on tansu; stop "
    "this worker, then restart the broker (memory storage loses every topic) or "
    "set LIFELINE_CONNECT__GROUP_ID to a new id (connectors must then be "
    "registered again)"
)
_JOINING = re.compile(r"ensuring membership in the cluster, which began at (\S+Z)")

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = console
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
"""


class _NotReady(Exception):
    """A readiness probe found the worker not ready yet, and why."""


class ConnectWorker(Component):
    """One Connect worker: ``java`` with the assembled classpath, under state/."""

    name = NAME

    def __init__(self, settings: Settings, *, timeout: float = 90.0) -> None:
        self.settings = settings
        self.config: ConnectSettings = settings.connect
        self.timeout = timeout
        self.process = ManagedProcess(NAME, settings.state_path / "run")

    @property
    def internal_topics(self) -> dict[str, str]:
        """Worker property -> topic name for the config, offset and status topics."""
        group = self.config.group_id
        return {
            "config.storage.topic": f"{group}-configs",
            "offset.storage.topic": f"{group}-offsets",
            "status.storage.topic": f"{group}-status",
        }

    def start(self) -> None:
        """Start the worker unless it runs; block until it is ready.

        Ready means ``GET /connectors`` answers 200, ``GET /connector-plugins``
        lists both Debezium connectors and ``GET /health`` answers 200. A worker
        that is not ready within ``timeout`` seconds is stopped again and
        ComponentError carries its log tail.
        """
        if not self.config.managed:
            if self._get("/", _REST_TIMEOUT) is None:
                raise ComponentError(
                    NAME, f"external worker {self.config.url} unreachable"
                )
            return
        spawned = False
        if self.process.pid() is None:
            self._launch()
            spawned = True
        try:
            wait_until(
                NAME,
                self._ready,
                timeout=self.timeout,
                what=f"ready at {self.config.url}",
                process=self.process,
            )
        except ComponentError:
            if spawned:
                self.process.terminate()
            raise

    def stop(self) -> None:
        """Stop the worker if Lifeline started it; a no-op otherwise.

        A worker in the middle of joining its group gets up to
        ``_JOIN_GRACE`` seconds to finish first: tansu keeps a group stuck
        when a member leaves between its join and sync requests.
        """
        if not self.config.managed or self.process.pid() is None:
            return
        self._let_join_finish()
        self.process.terminate()

    def pid(self) -> int | None:
        """The live worker process Lifeline started, else None."""
        return self.process.pid() if self.config.managed else None

    def status(self) -> ComponentStatus:
        """Probe ``GET /health``; a stuck group join shows as UNHEALTHY with a hint."""
        address = self.config.url
        if not self.config.managed:
            reachable = self._get("/", _REST_TIMEOUT) is not None
            state = State.EXTERNAL if reachable else State.UNREACHABLE
            return ComponentStatus(NAME, state, address)
        pid = self.process.pid()
        if pid is None:
            taken = port_open(self.config.host, self.config.port)
            detail = "port in use by another program" if taken else ""
            return ComponentStatus(NAME, State.STOPPED, address, detail=detail)
        state, detail = self._health()
        started = self.process.started_at()
        return ComponentStatus(NAME, state, address, pid, started, detail)

    def _launch(self) -> None:
        if port_open(self.config.host, self.config.port):
            raise ComponentError(
                NAME,
                f"port {self.config.port} is in use by another program; stop it or "
                "set LIFELINE_CONNECT__PORT",
            )
        self.process.spawn(self.command(), cwd=connect_dir(self.settings))
        logger.info(
            "starting component=%s url=%s group=%s heap=%s",
            NAME,
            self.config.url,
            self.config.group_id,
            self.config.heap,
        )

    def command(self) -> list[str]:
        """Prepare everything the worker needs and return its command line.

        Assembles the classpath, writes worker.properties and the log
        configuration under ``state/connect`` and creates the internal topics
        (the broker must answer). :meth:`start` spawns the command; the
        Connect image of docker-compose.yml runs it in the foreground.
        """
        java = java_executable()
        libs = assemble_connect_classpath(self.settings)
        properties = self._write_worker_properties()
        log_config = connect_dir(self.settings) / "log4j2.properties"
        log_config.write_text(_LOG4J2)
        create_topics(
            self.settings,
            self.internal_topics.values(),
            partitions=1,
            config={"cleanup.policy": "compact"},
        )
        return [
            str(java),
            f"-Xmx{self.config.heap}",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log_config}",
            "-cp",
            f"{libs}{os.sep}*",
            MAIN_CLASS,
            str(properties),
        ]

    def _write_worker_properties(self) -> Path:
        path = connect_dir(self.settings) / "worker.properties"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{k}={_escape(v)}" for k, v in self.worker_properties().items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def worker_properties(self) -> dict[str, str]:
        """Return the worker's configuration; ``connect.worker_config`` wins."""
        config, broker = self.config, self.settings.broker
        properties = {
            "bootstrap.servers": broker.bootstrap_servers,
            "group.id": config.group_id,
            "listeners": f"http://{config.host}:{config.port}",
            "rest.advertised.host.name": config.host,
            "rest.advertised.port": str(config.port),
            **self.internal_topics,
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.partitions": "1",
            "status.storage.partitions": "1",
            "key.converter": _JSON,
            "value.converter": _JSON,
            # The decoder needs the schema (decimal scale, temporal types).
            "key.converter.schemas.enable": "true",
            "value.converter.schemas.enable": "true",
            "offset.flush.interval.ms": "1000",
            "plugin.discovery": "service_load",
            # tansu completes a group join after about half the session timeout.
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "1000",
            # tansu accepts client telemetry but has clients re-register every
            # few seconds, each time with an INFO line in the worker's log.
            **{f"{p}enable.metrics.push": "false" for p in _CLIENT_PREFIXES},
        }
        properties.update(config.worker_config)
        return properties

    def _ready(self) -> bool:
        connectors = self._get("/connectors", _REST_TIMEOUT)
        if connectors is None or connectors.status_code != 200:
            return False
        plugins = self._get("/connector-plugins", _REST_TIMEOUT)
        loaded = {p.get("class") for p in _json_list(plugins)}
        missing = DEBEZIUM_PLUGINS - loaded
        if missing:
            reason = f"connector plugins not loaded: {sorted(missing)}"
            raise _NotReady(reason)
        state, detail = self._health()
        if state is not State.RUNNING:
            raise _NotReady(detail)
        return True

    def _let_join_finish(self) -> None:
        deadline = time.monotonic() + _JOIN_GRACE
        while (left := deadline - time.monotonic()) > 0:
            # No REST listener yet means the worker has not started joining.
            response = self._get("/health", (1.0, max(left, 1.0)))
            if response is None or response.status_code == 200:
                return
            age = _join_age(_json_field(response, "message"))
            if age is not None and age > _STUCK_AFTER:
                return  # stuck already; waiting cannot help
            time.sleep(0.5)
        logger.warning(
            "stopping component=%s while its group join is unfinished group=%s",
            NAME,
            self.config.group_id,
        )

    def _health(self) -> tuple[State, str]:
        response = self._get("/health", _HEALTH_TIMEOUT)
        if response is None:
            return State.UNHEALTHY, "process alive, REST API not answering"
        if response.status_code == 200:
            return State.RUNNING, f"group {self.config.group_id}"
        message = (_json_field(response, "message") or response.text[:200]).strip()
        age = _join_age(message)
        if age is None:
            return State.UNHEALTHY, f"HTTP {response.status_code}: {message}"
        joining = f"joining group {self.config.group_id} for {age:.0f}s"
        if age > _STUCK_AFTER:
            return State.UNHEALTHY, f"{joining}, stuck. Hint: {_STUCK_HINT}"
        return State.UNHEALTHY, joining

    def _get(self, path: str, timeout: tuple[float, float]) -> requests.Response | None:
        try:
            return requests.get(f"{self.config.url}{path}", timeout=timeout)
        except requests.RequestException:
            return None


def java_executable() -> Path:
    """Return a Java 17+ ``java`` ($JAVA_HOME first, then PATH).

    Raises ComponentError saying how to install one when none is found.
    """
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is None or not os.access(candidate, os.X_OK):
        found = shutil.which("java")
        candidate = Path(found) if found else None
    if candidate is None:
        raise ComponentError(
            NAME,
            "java not found; Kafka Connect needs Java 17 or newer: "
            "apt-get install openjdk-17-jre-headless",
        )
    major = _java_major(candidate)
    if major < _MIN_JAVA:
        raise ComponentError(
            NAME,
            f"{candidate} is Java {major}; Kafka Connect needs Java {_MIN_JAVA} or "
            "newer: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)",
        )
    return candidate


def _java_major(java: Path) -> int:
    result = subprocess.run(
        [str(java), "-version"], capture_output=True, text=True, timeout=30
    )
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr)
    if match is None:
        raise ComponentError(NAME, f"cannot tell the version of {java}", result.stderr)
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return minor if major == 1 else major


def _json_list(response: requests.Response | None) -> list[dict[str, Any]]:
    if response is None or response.status_code != 200:
        return []
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, list):
        return []
    return [item for item in body if isinstance(item, dict)]


def _json_field(response: requests.Response, field: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get(field) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _join_age(message: str) -> float | None:
    """Seconds a worker has been joining its group, from its /health message."""
    match = _JOINING.search(message)
    if match is None:
        return None
    try:
        began = datetime.fromisoformat(match.group(1))
    except ValueError:
        return None
    return (datetime.now(UTC) - began).total_seconds()


def _escape(value: str) -> str:
    """Escape a value for a Java properties file."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")
