"""The two yardsticks Lifeline's golden flow is timed against.

Both read every CDC topic from the beginning and keep the latest row per key
in Redis (``HSET <prefix>:<topic>:<row id> row <json>``, pipelined), with no
ordering, typing or joins:

* ``raw``: a bare confluent-kafka ``consume(5000)`` loop, orjson and one
  pipeline per batch; the ceiling of this machine for the job;
* ``naive``: a per-message Bytewax flow (Bytewax's own Kafka source, a map
  per message, ``stateful_map`` per key, a pipelined sink), as a first
  Bytewax program would be written.

Both parse what JsonConverter wrote with orjson: the ``payload`` part, found
by a byte search, since the schema part repeats verbatim in every record (the
Lifeline decoder does the same). Run as ``python -m bench.contenders raw`` and
``python -m bytewax.run "bench.contenders:naive_flow()"``; they keep running
at the end of the topics, like the golden flow, until stopped.
"""

from __future__ import annotations

import sys
from typing import Any

import bytewax.operators as op
import orjson
import redis
from bytewax.connectors.kafka import KafkaSource
from bytewax.dataflow import Dataflow
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from lifeline.capture.catalog import cdc_topics
from lifeline.flows.cdc import kafka_config
from lifeline.settings import Settings

_PAYLOAD = b',"payload":'
Latest = tuple[str, bytes | None]  # (redis key, row JSON or None: deleted)


def payload(raw: bytes) -> Any:
    """The ``payload`` of a JsonConverter record (schema part skipped)."""
    at = raw.find(_PAYLOAD)
    return orjson.loads(raw[at + len(_PAYLOAD) : -1]) if at > 0 else orjson.loads(raw)


def latest(prefix: str, topic: str, key: bytes, value: bytes | None) -> Latest | None:
    """The Redis key and row of one record; None for a tombstone."""
    if value is None:
        return None
    row_id = "|".join(str(v) for v in payload(key).values())
    after = payload(value)["after"]
    return f"{prefix}:{topic}:{row_id}", None if after is None else orjson.dumps(after)


def write(client: redis.Redis, rows: dict[str, bytes | None]) -> None:
    """One pipeline: HSET each row, DEL each deleted one."""
    pipe = client.pipeline(transaction=False)
    for key, row in rows.items():
        if row is None:
            pipe.delete(key)
        else:
            pipe.hset(key, "row", row)
    pipe.execute()


def run_raw(prefix: str = "raw") -> None:
    """The ceiling: consume, parse, keep the latest per key, write; forever."""
    settings = Settings()
    config: dict[str, str | int | float | bool] = {**kafka_config(settings)}
    client = redis.Redis(**settings.redis.client_kwargs())
    consumer = Consumer({**config, "group.id": "bench-raw", "fetch.wait.max.ms": "100"})
    metadata = AdminClient(config).list_topics(timeout=10).topics
    consumer.assign(
        [
            TopicPartition(topic, partition, OFFSET_BEGINNING)
            for topic in cdc_topics(settings)
            for partition in metadata[topic].partitions
        ]
    )
    while True:
        messages = consumer.consume(5000, 0.1)
        rows: dict[str, bytes | None] = {}
        for message in messages:
            topic, key = message.topic(), message.key()
            if message.error() is not None or topic is None or key is None:
                continue
            found = latest(prefix, topic, bytes(key), message.value())
            if found is not None:
                rows[found[0]] = found[1]
        if rows:
            write(client, rows)


class _PipelinedSink(DynamicSink[Latest]):
    def __init__(self, settings: Settings) -> None:
        self._kwargs = settings.redis.client_kwargs()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Part:
        return _Part(redis.Redis(**self._kwargs))


class _Part(StatelessSinkPartition[Latest]):
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def write_batch(self, items: list[Latest]) -> None:
        write(self._client, dict(items))


def naive_flow(prefix: str = "naive") -> Dataflow:
    """The per-message Bytewax flow for the same job."""
    settings = Settings()
    source = KafkaSource(
        [settings.broker.bootstrap_servers],
        cdc_topics(settings),
        tail=True,
        add_config={"fetch.wait.max.ms": "100"},
        batch_size=5000,
    )

    def parse(message: Any) -> list[Latest]:  # a message: errors raise
        found = latest(prefix, message.topic or "", message.key, message.value)
        return [] if found is None else [found]

    def keep_last(last: bytes | None, row: bytes | None) -> tuple[bytes | None, Any]:
        return row, row

    flow = Dataflow("bench_naive")
    messages = op.input("in", flow, source)
    rows = op.flat_map("parse", messages, parse)
    kept = op.stateful_map("latest", rows, keep_last)
    op.output("out", kept, _PipelinedSink(settings))
    return flow


if __name__ == "__main__":
    if sys.argv[1:] != ["raw"]:
        raise SystemExit("usage: python -m bench.contenders raw")
    run_raw()
