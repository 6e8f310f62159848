"""Bad records, schema changes and a re-snapshot in the CDC topics mid-stream."""

from __future__ import annotations

import time
import uuid

import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from lifeline.live import postgres_connection
from lifeline.settings import Settings
from tests.chaos.faults import add_columns, drop_columns, fill_column, inject_poison
from tests.chaos.harness import Harness
from tests.chaos.load import Background, wait_for
from tests.chaos.resnapshot import resnapshot

pytestmark = pytest.mark.stack

FLOWS = {"lifeline_skeleton", "lifeline_golden"}


def _dead_letters(settings: Settings) -> set[tuple[str, int, str]]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"chaos-{uuid.uuid4().hex}",
        }
    )
    consumer.assign([TopicPartition(settings.topics.dead_letter, 0, OFFSET_BEGINNING)])
    found: set[tuple[str, int, str]] = set()
    while messages := consumer.consume(1000, 1.0):
        for message in messages:
            value = message.value()
            if message.error() is None and value:
                letter = orjson.loads(value)
                found.add((letter["topic"], letter["offset"], letter["flow"]))
    consumer.close()
    return found


def test_poison_records_in_cdc_topics(harness: Harness) -> None:
    settings = harness.settings
    topics = [
        f"{settings.topics.erp_prefix}.{settings.mariadb.database}.customers",
        f"{settings.topics.identity_prefix}.public.users",
    ]
    load = harness.load("poison")
    with Background(load):
        time.sleep(1)
        placed = inject_poison(settings, topics)
        time.sleep(2)
    wanted = {(topic, offset, flow) for topic, offset in placed for flow in FLOWS}
    found: set[tuple[str, int, str]] = set()

    def all_dead_lettered() -> bool:
        found.update(_dead_letters(settings))
        return wanted <= found

    assert wait_for(all_dead_lettered, 60), f"not dead-lettered: {wanted - found}"
    harness.verify(load, poison_records=len(placed), waves=load.waves)
    load.close()


def test_alter_table_adding_and_dropping_a_column(harness: Harness) -> None:
    settings = harness.settings
    column = "chaos_note"
    load = harness.load("alter")
    erp_rows = [c.erp_row for c in load.customers if c.erp_row is not None]
    users = [c.user_id for c in load.customers if c.user_id is not None]
    try:
        with Background(load):
            time.sleep(1)
            add_columns(settings, column)
            time.sleep(1)
            fill_column(settings, column, erp_rows)
            with postgres_connection(settings) as pg:
                pg.execute(
                    f"UPDATE users SET {column}='note' WHERE id = ANY(%s)", (users,)
                )
                pg.commit()
            time.sleep(1)
            drop_columns(settings, column)
            time.sleep(1)
    finally:
        drop_columns(settings, column)
    harness.verify(load, waves=load.waves)
    load.close()


def test_fresh_resnapshot_of_tables(harness: Harness) -> None:
    load = harness.load("resnap")
    with Background(load):
        time.sleep(1)
        done = resnapshot(harness.settings, ["customers", "orders"])
        time.sleep(1)
    assert all(done.reads[t] >= done.rows[t] > 0 for t in done.rows), done
    harness.verify(
        load,
        resnapshot_rows=done.rows,
        resnapshot_seconds=done.seconds,
        waves=load.waves,
    )
    load.close()
