"""The first dataflow: CDC topics -> latest rows and email views -> Redis.

::

    kafka batches ─ decode ─┬─ dead letters ──────────────────────> DLQ topic
                            └─ by row key group ─ latest_rows ─┬──> Redis rows
                                   by email key group ─ email_view ─> Redis views

Every step handles a list (a Kafka batch, or the part of it that falls in one
key group) so that the framework's per-item cost is paid per batch.
"""

from __future__ import annotations

from collections.abc import Mapping

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from lifeline.capture.catalog import cdc_topics
from lifeline.decode.change import ChangeEvent, DeadLetter
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord
from lifeline.emit.dead_letter import DeadLetterSink
from lifeline.emit.redis_sink import CacheItem, RedisCacheSink
from lifeline.flows.stateful import stateful_flat_map
from lifeline.join.email_view import EmailColumns, email_view_step, route_contributions
from lifeline.join.latest import latest_rows_step
from lifeline.join.shards import group_rows_broadcasting
from lifeline.settings import Settings


def kafka_config(settings: Settings) -> dict[str, str]:
    """Librdkafka settings shared by the flow's consumers and producers."""
    return {
        "bootstrap.servers": settings.broker.bootstrap_servers,
        **settings.broker.client_config,
    }


def email_columns(settings: Settings) -> EmailColumns:
    """Which column of which captured table carries a customer's email."""
    return {
        (settings.topics.erp_prefix, "customers"): "email",
        (settings.topics.identity_prefix, "users"): "email",
    }


def _row_group_key(event: ChangeEvent) -> str:
    return f"{event.system}:{event.table}:{event.row_id}"


def group_rows(events: list[ChangeEvent]) -> list[tuple[str, list[ChangeEvent]]]:
    """Events by the key group of their row; a truncate goes to every group."""
    return group_rows_broadcasting(events, _row_group_key, lambda e: e.op == "t")


def build_flow(
    settings: Settings,
    *,
    source: Source[list[KafkaRecord]] | None = None,
    cache_sink: Sink[CacheItem] | None = None,
    dead_letter_sink: Sink[DeadLetter] | None = None,
) -> Dataflow:
    """Assemble the skeleton flow; sources and sinks can be swapped for tests."""
    from lifeline.source.kafka_batch import KafkaBatchSource

    config = kafka_config(settings)
    decoder = EnvelopeDecoder()
    columns: Mapping[tuple[str, str], str] = email_columns(settings)

    flow = Dataflow("lifeline_skeleton")
    batches = op.input(
        "cdc_in", flow, source or KafkaBatchSource(config, cdc_topics(settings))
    )
    decoded = op.map("decode", batches, decoder.decode_batch)
    dead = op.flat_map("dead_letters", decoded, lambda pair: pair[1])
    grouped = op.flat_map("group_rows", decoded, lambda pair: group_rows(pair[0]))
    row_changes = stateful_flat_map("latest_rows", grouped, latest_rows_step)
    contributions = op.flat_map(
        "group_emails", row_changes, lambda kv: route_contributions(kv[1], columns)
    )
    views = stateful_flat_map("email_views", contributions, email_view_step)
    to_cache = op.merge(
        "cache_changes",
        op.map("rows_out", row_changes, lambda kv: kv[1]),
        op.map("views_out", views, lambda kv: kv[1]),
    )
    op.output(
        "cache_out",
        to_cache,
        cache_sink
        or RedisCacheSink(settings.redis.client_kwargs(), settings.cache_prefix),
    )
    op.output(
        "dead_letter_out",
        dead,
        dead_letter_sink or DeadLetterSink(config, settings.topics.dead_letter),
    )
    return flow
