"""The lifecycle events topic through a real broker, with and without a registry.

The module starts its own broker (tansu) on a free port with a temporary
state directory; the registry is the stand-in of fake_registry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from lifeline.decode.records import KafkaRecord
from lifeline.emit.golden_sinks import LifecycleEventSink
from lifeline.errors import RetryableError
from lifeline.events import EventCodec
from lifeline.events.schema_registry import SchemaRegistryClient
from lifeline.flows.deliveries import read_events
from lifeline.golden.step import GoldenOutput
from lifeline.settings import BrokerSettings, SchemaRegistrySettings, Settings
from lifeline.stack.broker import Broker, create_topics
from lifeline.targets.kafka_records import client_config
from tests.ports import free_port
from tests.registry.fake_registry import FakeRegistry
from tests.unit.events.samples import sample

pytestmark = pytest.mark.stack

NAMES = ("CustomerCreated", "OrderPlaced", "InvoicePosted")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings(state_dir=state, broker=BrokerSettings(port=free_port()))
    broker = Broker(settings)
    try:
        broker.start()
        yield settings
    finally:
        broker.process.terminate(timeout=0.5)  # in-memory topics: nothing to keep


def new_topic(settings: Settings) -> str:
    """A fresh one-partition topic, so its records keep the order produced."""
    topic = f"test.lifecycle.{uuid.uuid4().hex[:8]}"
    create_topics(settings, [topic])
    return topic


def produce(settings: Settings, topic: str, registry: str | None) -> None:
    configured = SchemaRegistrySettings(url=registry, subject_strategy="record_name")
    sink = LifecycleEventSink(client_config(settings.broker), topic, configured)
    partition = sink.build_part("lifecycle_out", "0", None)
    try:
        events = tuple(sample(name) for name in NAMES)
        partition.write_batch([GoldenOutput(updates=(), events=events)])
    finally:
        partition.close()


def read_topic(settings: Settings, topic: str) -> list[KafkaRecord]:
    consumer = Consumer(
        {
            **client_config(settings.broker),
            "group.id": f"test-{uuid.uuid4().hex}",
            "enable.partition.eof": "true",
            "enable.auto.commit": "false",
        }
    )
    records: list[KafkaRecord] = []
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        for _ in range(200):
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, str(error)
                return records
            records.append(
                KafkaRecord(
                    topic, 0, message.offset() or 0, message.key(), message.value()
                )
            )
    finally:
        consumer.close()
    pytest.fail(f"topic {topic} did not reach its end")


def test_registry_mode_frames_events_and_the_deliveries_flow_reads_both(
    settings: Settings, registry: FakeRegistry
) -> None:
    topic = new_topic(settings)
    produce(settings, topic, registry.url)
    produce(settings, topic, None)

    records = read_topic(settings, topic)

    assert len(records) == 2 * len(NAMES)
    framed, single = records[: len(NAMES)], records[len(NAMES) :]
    subjects = registry.subjects()
    for record, name in zip(framed, NAMES, strict=True):
        (schema_id,) = subjects[f"io.lifeline.events.{name}"]
        assert record.value is not None
        assert record.value[:5] == b"\x00" + schema_id.to_bytes(4, "big")
        assert record.key == sample(name).golden_id.encode()
    assert all(r.value is not None and r.value[:2] == b"\xc3\x01" for r in single)

    reader = EventCodec(schema_source=SchemaRegistryClient(registry.url))
    events, dead = read_events(reader, records)

    assert dead == []
    expected = [str(sample(name).event_id) for name in NAMES]
    assert [e["event_id"] for e in events] == expected + expected
    assert [e["event_type"] for e in events] == list(NAMES) * 2


def test_without_the_registry_a_framed_event_is_a_dead_letter(
    settings: Settings, registry: FakeRegistry
) -> None:
    topic = new_topic(settings)
    produce(settings, topic, registry.url)

    events, dead = read_events(EventCodec(), read_topic(settings, topic))

    assert events == []
    assert [d.kind for d in dead] == ["unknown_schema"] * len(NAMES)
    assert all(d.coordinates.topic == topic for d in dead)


def test_a_flow_writes_every_event_and_settles_at_each_epoch(
    settings: Settings,
) -> None:
    """The sink as the golden flow wires it: keyed outputs, many epochs."""
    topic = new_topic(settings)
    sink = LifecycleEventSink(client_config(settings.broker), topic)
    outputs = [
        (f"{'fg'[n % 2]}-{n % 5}", GoldenOutput(updates=(), events=(sample(name),)))
        for n in range(12)
        for name in NAMES
    ]
    flow = Dataflow("epoch_sink_test")
    items = op.input("in", flow, TestingSource(outputs))
    # As the golden flow does: encoded before the exchange (here every other).
    mixed = op.map("encode", items, lambda kv: sink.keyed(kv) if kv[0] < "g" else kv)
    op.output("lifecycle_out", mixed, sink)

    run_main(flow, epoch_interval=timedelta(0))  # type: ignore[no-untyped-call]

    records = read_topic(settings, topic)
    assert len(records) == len(outputs)
    assert sorted(r.value or b"" for r in records) == sorted(
        EventCodec().encode(event) for _, output in outputs for event in output.events
    )


def test_a_batch_waits_for_no_broker_but_its_epoch_does() -> None:
    port = free_port()  # nothing listens there
    config = {"bootstrap.servers": f"127.0.0.1:{port}"}
    sink = LifecycleEventSink(config, "t", flush_timeout=1.0)
    partition = sink.build_part("lifecycle_out", "0", None)

    partition.write_batch([GoldenOutput(updates=(), events=(sample(NAMES[0]),))])

    with pytest.raises(RetryableError, match=r"topic t: 1 lifecycle events not ack"):
        partition.snapshot()
