"""Golden records and lifecycle events from real changes in both databases."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Consumer

from lifeline.cache import CacheReader, GoldenRecord, build_client
from lifeline.events.avro import EventCodec
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    mariadb_connection,
    postgres_connection,
)
from lifeline.settings import Settings

pytestmark = pytest.mark.stack


def _wait_for(
    probe: Callable[[], GoldenRecord | None],
    done: Callable[[GoldenRecord | None], bool],
    timeout: float = 30.0,
) -> GoldenRecord | None:
    deadline = time.monotonic() + timeout
    found = probe()
    while not done(found) and time.monotonic() < deadline:
        time.sleep(0.05)
        found = probe()
    return found


def _events_for(settings: Settings, golden_id: str, want: int) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
        }
    )
    consumer.subscribe([settings.topics.lifecycle])
    codec, found = EventCodec(), []
    deadline = time.monotonic() + 30
    while len(found) < want and time.monotonic() < deadline:
        for message in consumer.consume(500, 0.5):
            if message.error() is None and message.key() == golden_id.encode():
                found.append(codec.decode(message.value()))
    consumer.close()
    return found


def test_customer_in_both_systems_becomes_one_golden_record(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:10]
    email = f"golden.{tag}@example.com"
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        # A sole trader: the ERP customer's legal name is the person's name.
        ErpChanges(stack_settings, my).insert(f"C-{tag}", "Greta Gold", email)
        identity = IdentityChanges(stack_settings, pg)
        identity.insert(f"u-{tag}", f" {email.upper()}", "Greta", "Gold")
        both = {f"erp:C-{tag}", f"identity:u-{tag}"}
        record = _wait_for(
            lambda: reader.by_source_id(f"erp:C-{tag}"),
            lambda r: r is not None and set(r.source_ids) == both,
        )
        assert record is not None, "golden record never reached the cache"
        assert set(record.source_ids) == both
        assert record.record["legal_name"] == "Greta Gold"
        assert record.record["given_name"] == "Greta"
        assert reader.by_source_id(f"identity:u-{tag}") == record
        assert [r.golden_id for r in reader.by_email(email)] == [record.golden_id]

        identity.rename(f"u-{tag}", "Gretchen")
        renamed = _wait_for(
            lambda: reader.by_golden_id(record.golden_id),
            lambda r: r is not None and r.record["given_name"] == "Gretchen",
        )
        assert renamed is not None
        assert renamed.record["given_name"] == "Gretchen"
        assert renamed.version > record.version

    kinds = [type(e).__name__ for e in _events_for(stack_settings, record.golden_id, 2)]
    assert kinds[0] == "CustomerCreated"
    assert "CustomerUpdated" in kinds
