"""The broker and the Connect worker, run for real on private ports.

The module starts its own tansu and Connect worker with a temporary state
directory and free ports (set through ``LIFELINE_`` variables) and stops them
when it ends, whatever happened.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

from lifeline.errors import ComponentError
from lifeline.settings import BrokerSettings, ConnectSettings, Settings
from lifeline.stack.base import State
from lifeline.stack.broker import Broker, create_topics
from lifeline.stack.connect import DEBEZIUM_PLUGINS, ConnectWorker, java_executable
from lifeline.stack.jars import JETTY_JARS, assemble_connect_classpath, jetty_deb_path
from tests.ports import free_port

pytestmark = pytest.mark.stack

CHECKOUT_STATE = Path(__file__).resolve().parents[2] / "state"


def _ended(pid: int) -> bool:
    """True when ``pid`` is gone or a zombie (the test process is its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _partitions(settings: Settings, topic: str) -> int:
    admin = AdminClient({"bootstrap.servers": settings.broker.bootstrap_servers})
    metadata = admin.list_topics(topic=topic, timeout=10)
    return len(metadata.topics[topic].partitions)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    state = tmp_path_factory.mktemp("state")
    env = {
        "LIFELINE_STATE_DIR": str(state),
        "LIFELINE_BROKER__PORT": str(free_port()),
        "LIFELINE_CONNECT__PORT": str(free_port()),
        "LIFELINE_CONNECT__GROUP_ID": "test-connect",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = Settings()
    # Reuse the checkout's Jetty .deb when there is one (it is verified
    # against the pinned checksum anyway) so the test needs no network.
    deb = jetty_deb_path(settings)
    cached = CHECKOUT_STATE / deb.parent.name / deb.name
    if cached.is_file():
        deb.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, deb)
    yield settings


@pytest.fixture(scope="module")
def broker(settings: Settings) -> Iterator[Broker]:
    broker = Broker(settings)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def connect(settings: Settings, broker: Broker) -> Iterator[ConnectWorker]:
    worker = ConnectWorker(settings)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()


def test_classpath_is_assembled_once(settings: Settings) -> None:
    libs = assemble_connect_classpath(settings)
    names = {jar.name for jar in libs.glob("*.jar")}
    assert set(JETTY_JARS) <= names
    assert any(n.startswith("debezium-connector-postgres-") for n in names)
    assert any(n.startswith("debezium-connector-mysql-") for n in names)
    assert not any(n.startswith(("jetty-servlet-9.", "logback-")) for n in names)

    started = time.monotonic()
    assert assemble_connect_classpath(settings) == libs
    assert time.monotonic() - started < 1.0


def test_broker_runs_and_second_start_is_a_no_op(broker: Broker) -> None:
    first = broker.status()
    assert first.state is State.RUNNING
    assert first.pid is not None
    assert first.started_at is not None

    started = time.monotonic()
    broker.start()
    assert time.monotonic() - started < 1.0
    assert broker.status().pid == first.pid


def test_create_topics_is_idempotent(settings: Settings, broker: Broker) -> None:
    create_topics(settings, ["test.orders"], config={"cleanup.policy": "compact"})
    create_topics(settings, ["test.orders"], partitions=3)

    assert _partitions(settings, "test.orders") == 1


def test_connect_lists_debezium_plugins(
    settings: Settings, connect: ConnectWorker
) -> None:
    response = requests.get(f"{settings.connect.url}/connector-plugins", timeout=10)
    assert response.status_code == 200
    assert {plugin["class"] for plugin in response.json()} >= DEBEZIUM_PLUGINS
    for topic in connect.internal_topics.values():
        assert _partitions(settings, topic) == 1


def test_connect_second_start_is_a_no_op(connect: ConnectWorker) -> None:
    first = connect.status()
    assert first.state is State.RUNNING
    assert first.pid is not None
    assert first.started_at is not None

    started = time.monotonic()
    connect.start()
    assert time.monotonic() - started < 1.0
    assert connect.status().pid == first.pid


def test_stop_ends_both_processes(broker: Broker, connect: ConnectWorker) -> None:
    pids = [connect.status().pid, broker.status().pid]

    connect.stop()
    broker.stop()

    assert connect.status().state is State.STOPPED
    assert broker.status().state is State.STOPPED
    for pid in pids:
        assert pid is not None
        assert _ended(pid)


def test_unreachable_external_components_fail_fast(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        state_dir=tmp_path,
        broker=BrokerSettings(managed=False, port=port),
        connect=ConnectSettings(managed=False, port=port),
    )
    broker, worker = Broker(settings), ConnectWorker(settings)

    assert broker.status().state is State.UNREACHABLE
    assert worker.status().state is State.UNREACHABLE
    with pytest.raises(ComponentError, match="unreachable"):
        broker.start()
    with pytest.raises(ComponentError, match="unreachable"):
        worker.start()
    broker.stop()
    worker.stop()


def test_missing_java_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")

    with pytest.raises(ComponentError, match="openjdk-17-jre-headless"):
        java_executable()
