"""The front every CDC flow shares: Kafka batches to ordered row changes.

::

    kafka batches ─ decode ─┬─ dead letters ───────────────> DLQ topic
                            └─ by row key group ─ latest_rows ─> row changes
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source
from bytewax.operators import KeyedStream
from bytewax.outputs import Sink

from lifeline.capture.catalog import cdc_topics
from lifeline.decode.change import ChangeEvent, DeadLetter
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord
from lifeline.emit.dead_letter import DeadLetterSink
from lifeline.flows.stateful import stateful_flat_map
from lifeline.join.latest import RowChange, counting_latest_rows_step
from lifeline.join.shards import group_rows_broadcasting
from lifeline.observe import tally
from lifeline.settings import Settings


def kafka_config(settings: Settings) -> dict[str, str]:
    """Librdkafka settings shared by the flows' consumers and producers."""
    return {
        "bootstrap.servers": settings.broker.bootstrap_servers,
        **settings.broker.client_config,
    }


def _row_group_key(event: ChangeEvent) -> str:
    return f"{event.system}:{event.table}:{event.row_id}"


def group_rows(events: list[ChangeEvent]) -> list[tuple[str, list[ChangeEvent]]]:
    """Events by the key group of their row; a truncate goes to every group."""
    return group_rows_broadcasting(events, _row_group_key, lambda e: e.op == "t")


def row_changes(
    flow: Dataflow,
    settings: Settings,
    source: Source[list[KafkaRecord]] | None,
    dead_letter_sink: Sink[DeadLetter] | None,
) -> KeyedStream[list[RowChange]]:
    """Decoded, ordered and deduplicated row changes of the CDC topics.

    Records that cannot be decoded go to the dead-letter topic (or
    ``dead_letter_sink``) here; the returned stream carries one list of row
    changes per key group and batch.
    """
    from lifeline.source.kafka_batch import KafkaBatchSource

    config = kafka_config(settings)
    decoder = EnvelopeDecoder()
    name = tally.flow_of(flow.flow_id)
    batches = op.input(
        "cdc_in", flow, source or KafkaBatchSource(config, cdc_topics(settings))
    )
    decoded = op.map("decode", batches, lambda batch: _decode(decoder, name, batch))
    dead: Stream[DeadLetter] = op.flat_map("dead_letters", decoded, lambda p: p[1])
    op.output(
        "dead_letter_out",
        dead,
        dead_letter_sink
        or DeadLetterSink(config, settings.topics.dead_letter, flow.flow_id),
    )
    grouped = op.flat_map("group_rows", decoded, lambda pair: group_rows(pair[0]))
    latest = counting_latest_rows_step(
        lambda dropped: tally.dropped(name, dropped.duplicates, dropped.stale)
    )
    return stateful_flat_map("latest_rows", grouped, latest)


def _decode(
    decoder: EnvelopeDecoder, flow: str, records: list[KafkaRecord]
) -> tuple[list[ChangeEvent], list[DeadLetter]]:
    """Decode one Kafka batch and count its changes and failures."""
    events, dead = decoder.decode_batch(records)
    tally.decoded(flow, events, dead)
    return events, dead
