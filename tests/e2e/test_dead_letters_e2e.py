"""A poison record in a CDC topic reaches the dead-letter topic; flows go on."""

from __future__ import annotations

import base64
import time
import uuid
from decimal import Decimal

import orjson
import pytest
from confluent_kafka import Consumer, Producer

from lifeline.live import ErpChanges, mariadb_connection, watch
from lifeline.settings import Settings

pytestmark = pytest.mark.stack


def _dead_letters(
    settings: Settings, offset: int, want: int
) -> list[dict[str, object]]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([settings.topics.dead_letter])
    found: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while len(found) < want and time.monotonic() < deadline:
        for message in consumer.consume(500, 0.5):
            if message.error() is not None:
                continue
            letter = orjson.loads(message.value())
            if letter["topic"] == "erp.erp.customers" and letter["offset"] == offset:
                found.append(letter)
    consumer.close()
    return found


def test_poison_record_is_dead_lettered_by_each_flow(stack_settings: Settings) -> None:
    poison = b'{"schema": {"type": "struct"}, "payload": {not json'
    producer = Producer({"bootstrap.servers": stack_settings.broker.bootstrap_servers})
    delivered: list[int] = []
    producer.produce(
        "erp.erp.customers",
        key=b'{"id": -1}',
        value=poison,
        on_delivery=lambda err, msg: delivered.append(msg.offset()),
    )
    producer.flush(10)
    (offset,) = delivered
    letters = _dead_letters(stack_settings, offset, want=2)
    assert {letter["flow"] for letter in letters} == {
        "lifeline_skeleton",
        "lifeline_golden",
    }
    for letter in letters:
        assert letter["kind"] == "malformed_json"
        assert base64.b64decode(str(letter["value"])) == poison
    # and the flows go on
    tag = uuid.uuid4().hex[:8]
    with mariadb_connection(stack_settings) as conn:
        erp = ErpChanges(stack_settings, conn)
        created = erp.insert(f"C-{tag}", "After Poison Ltd", f"after.{tag}@example.com")
        (seen,) = watch(stack_settings, [erp.update_credit(created.row_id, Decimal(7))])
    assert seen.seen_at_ms is not None
