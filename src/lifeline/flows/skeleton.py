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

from lifeline.decode.change import DeadLetter
from lifeline.decode.records import KafkaRecord
from lifeline.emit.redis_sink import CacheItem, RedisCacheSink
from lifeline.flows.cdc import row_changes
from lifeline.flows.stateful import stateful_flat_map
from lifeline.join.email_view import EmailColumns, email_view_step, route_contributions
from lifeline.settings import Settings


def email_columns(settings: Settings) -> EmailColumns:
    """Which column of which captured table carries a customer's email."""
    return {
        (settings.topics.erp_prefix, "customers"): "email",
        (settings.topics.identity_prefix, "users"): "email",
    }


def build_flow(
    settings: Settings,
    *,
    source: Source[list[KafkaRecord]] | None = None,
    cache_sink: Sink[CacheItem] | None = None,
    dead_letter_sink: Sink[DeadLetter] | None = None,
) -> Dataflow:
    """Assemble the skeleton flow; sources and sinks can be swapped for tests."""
    columns: Mapping[tuple[str, str], str] = email_columns(settings)
    flow = Dataflow("lifeline_skeleton")
    rows = row_changes(flow, settings, source, dead_letter_sink)
    contributions = op.flat_map(
        "group_emails", rows, lambda kv: route_contributions(kv[1], columns)
    )
    views = stateful_flat_map("email_views", contributions, email_view_step)
    to_cache = op.merge(
        "cache_changes",
        op.map("rows_out", rows, lambda kv: kv[1]),
        op.map("views_out", views, lambda kv: kv[1]),
    )
    op.output(
        "cache_out",
        to_cache,
        cache_sink or RedisCacheSink(settings.redis, settings.cache_prefix),
    )
    return flow
