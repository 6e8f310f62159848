"""A broker on s3:// storage, with the managed object store, on private ports.

Topics and committed offsets outlive the broker process (kill -9
included); a broker whose object store stopped starts empty, and the stack
then resets what pointed into the old topics.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from lifeline.settings import BrokerSettings, S3Settings, Settings
from lifeline.stack.base import State
from lifeline.stack.broker import Broker, create_topics
from lifeline.stack.manager import Stack
from lifeline.stack.object_store import ObjectStore, broker_environment, bucket_of
from tests.chaos.faults import restart_broker
from tests.ports import free_port

pytestmark = pytest.mark.stack


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings of a durable broker on free ports; both stopped afterwards."""
    settings = Settings(
        state_dir=tmp_path / "state",
        broker=BrokerSettings(port=free_port(), storage_url="s3://durable-test/"),
        s3=S3Settings(port=free_port()),
    )
    try:
        yield settings
    finally:
        Broker(settings).stop()
        ObjectStore(settings).stop()


def _produce(settings: Settings, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": settings.broker.bootstrap_servers})
    for n in range(count):
        producer.produce(topic, key=str(n).encode(), value=f"v{n}".encode())
    assert producer.flush(15) == 0


def _read(settings: Settings, topic: str) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex}",
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    while messages := consumer.consume(500, 2.0):
        values += [m.value() or b"" for m in messages if m.error() is None]
    consumer.close()
    return values


def test_topics_survive_a_broker_kill_9(settings: Settings) -> None:
    ObjectStore(settings).start()
    Broker(settings).start()
    create_topics(settings, ["durable.events"])
    _produce(settings, "durable.events", 50)
    restart_broker(settings, kill=True)
    _produce(settings, "durable.events", 5)
    values = _read(settings, "durable.events")
    assert values == [f"v{n}".encode() for n in (*range(50), *range(5))]


def test_a_broker_on_a_stopped_store_counts_as_empty(settings: Settings) -> None:
    store = ObjectStore(settings)
    stack = Stack(settings)
    assert stack.first == [stack.first[0]]
    store.start()
    assert store.status().state is State.RUNNING
    assert not stack._broker_starts_empty()  # the topics are in the store
    store.stop()
    assert stack._broker_starts_empty()
    memory = Settings(state_dir=settings.state_dir, broker=BrokerSettings())
    assert Stack(memory).first == []
    assert Stack(memory)._broker_starts_empty()


def test_the_broker_gets_an_explicit_endpoint(settings: Settings) -> None:
    env = broker_environment(settings)
    assert env["AWS_ENDPOINT"] == f"http://127.0.0.1:{settings.s3.port}"
    assert env["AWS_ALLOW_HTTP"] == "true"
    assert bucket_of(settings.broker.storage_url) == "durable-test"
    assert bucket_of("memory://tansu/") == ""
