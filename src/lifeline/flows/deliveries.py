"""The deliveries flow: lifecycle events topic -> SaaS webhook targets.

It runs apart from the golden flow, with its own offsets, so a slow or failing
target never delays the golden records or the cache. Events that cannot be
read go to the dead-letter topic like any bad record. Events in Confluent
frames have their schema ids resolved by the configured schema registry.
"""

from __future__ import annotations

from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from lifeline.decode.change import DeadLetter
from lifeline.decode.records import KafkaRecord
from lifeline.emit.dead_letter import DeadLetterSink
from lifeline.emit.delivery_sink import DeliverySink, EventBatch
from lifeline.errors import RecordError
from lifeline.events.avro import EventCodec
from lifeline.events.schema_registry import SchemaRegistryClient
from lifeline.flows.cdc import kafka_config
from lifeline.settings import Settings

STAGE = "deliveries"


def read_events(
    codec: EventCodec, records: list[KafkaRecord]
) -> tuple[list[dict[str, Any]], list[DeadLetter]]:
    """Decode lifecycle events into delivery mappings; bad records dead-letter."""
    events: list[dict[str, Any]] = []
    dead: list[DeadLetter] = []
    for record in records:
        try:
            event = codec.decode(_value(record))
        except RecordError as exc:
            dead.append(
                DeadLetter(
                    record.coordinates,
                    record.key,
                    record.value,
                    STAGE,
                    exc.kind,
                    exc.reason,
                )
            )
            continue
        events.append(
            {
                "event_id": str(event.event_id),
                "event_type": event.EVENT_TYPE,
                "golden_id": event.golden_id,
                "occurred_at": event.occurred_at,
                "payload": event.model_dump(mode="json"),
            }
        )
    return events, dead


def _value(record: KafkaRecord) -> bytes:
    if record.value is None:
        reason = "lifecycle record has no value"
        raise RecordError(kind="missing_value", reason=reason)
    return record.value


def build_delivery_flow(
    settings: Settings,
    *,
    source: Source[list[KafkaRecord]] | None = None,
    delivery_sink: Sink[EventBatch] | None = None,
    dead_letter_sink: Sink[DeadLetter] | None = None,
) -> Dataflow:
    """Assemble the deliveries flow; source and sinks can be swapped for tests."""
    from lifeline.source.kafka_batch import KafkaBatchSource

    config = kafka_config(settings)
    codec = EventCodec(
        schema_source=SchemaRegistryClient.from_settings(settings.schema_registry)
    )
    flow = Dataflow("lifeline_deliveries")
    batches = op.input(
        "events_in",
        flow,
        source or KafkaBatchSource(config, [settings.topics.lifecycle]),
    )
    read = op.map("read_events", batches, lambda records: read_events(codec, records))
    op.output(
        "deliver",
        op.map("events", read, lambda pair: pair[0]),
        delivery_sink or DeliverySink(settings),
    )
    op.output(
        "dead_letter_out",
        op.flat_map("dead", read, lambda pair: pair[1]),
        dead_letter_sink
        or DeadLetterSink(config, settings.topics.dead_letter, flow.flow_id),
    )
    return flow
