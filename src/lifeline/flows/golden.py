"""The golden-record flow: CDC topics -> golden customers in Redis and events.

::

    kafka batches ─ decode ─┬─ dead letters ─────────────────────────> DLQ topic
                            └─ latest_rows ─┬─ rows ──────────────────> Redis rows
                                            ├─ order windows ─┬─ late ──> late topic
                                            │                 bursts
                                            ├─ organisations ─┐
                                            └─ parties ◄──────┘─ clusters (resolver)
                                                 └─ golden ─┬──> golden cache
                                                            ├──> lifecycle topic
                                                            └──> audit topic

``latest_rows`` orders and deduplicates by source position; ``parties``
assembles whole resolver records (a party's row plus its external-id links)
and carries each identity user's organisation entries, which
``organisations`` joins keyed by organisation and routes to the members'
parties (:mod:`lifeline.join.organisations`);
``clusters`` is the single resolver that decides golden ids; ``golden``
derives each golden record from its members by the source-of-truth rules.
``order windows`` coalesces each order with its lines into one burst
(:mod:`lifeline.flows.order_windows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators import KeyedStream
from bytewax.outputs import Sink

from lifeline.decode.change import DeadLetter
from lifeline.decode.records import KafkaRecord
from lifeline.emit.audit_sink import AuditSink
from lifeline.emit.golden_sinks import GoldenCacheSink, LifecycleEventSink
from lifeline.emit.redis_sink import CacheItem, RedisCacheSink
from lifeline.flows.cdc import kafka_config, row_changes
from lifeline.flows.order_windows import order_bursts
from lifeline.flows.stateful import stateful_flat_map
from lifeline.golden.ownership import load_ownership
from lifeline.golden.step import GoldenOutput, golden_step
from lifeline.join.clusters import (
    RESOLVER_KEY,
    ClusterState,
    GoldenInput,
    ResolverItem,
    cluster_step,
)
from lifeline.join.commerce import is_commerce
from lifeline.join.organisations import (
    organisation_step,
    route_organisations,
    sample_organisation_join,
)
from lifeline.join.parties import (
    party_step,
    route_parties,
    sample_party_model,
)
from lifeline.join.windows import LateLine
from lifeline.observe import tally
from lifeline.resolve import load_config
from lifeline.settings import Settings


def build_golden_flow(
    settings: Settings,
    *,
    source: Source[list[KafkaRecord]] | None = None,
    row_sink: Sink[CacheItem] | None = None,
    golden_sink: Sink[GoldenOutput] | None = None,
    event_sink: Sink[GoldenOutput] | None = None,
    dead_letter_sink: Sink[DeadLetter] | None = None,
    audit_sink: Sink[GoldenOutput] | None = None,
    late_sink: Sink[LateLine] | None = None,
) -> Dataflow:
    """Assemble the golden flow; sources and sinks can be swapped for tests."""
    rules = load_ownership(settings.ownership_file)
    resolution = load_config(settings.resolution_file)
    model = sample_party_model(settings)
    join = sample_organisation_join(settings)

    flow = Dataflow("lifeline_golden")
    rows = row_changes(flow, settings, source, dead_letter_sink)
    org_pieces = op.flat_map(
        "route_organisations", rows, lambda kv: route_organisations(kv[1], join)
    )
    organisations = stateful_flat_map(
        "organisations", org_pieces, organisation_step(join)
    )
    pieces = op.merge(
        "party_pieces",
        op.flat_map("route_parties", rows, lambda kv: route_parties(kv[1], model)),
        op.flat_map("organisations_to_parties", organisations, _unpack),
    )
    parties = stateful_flat_map("parties", pieces, party_step(model))
    erp = settings.topics.erp_prefix
    commerce = op.filter_map(
        "commerce",
        rows,
        lambda kv: _to_resolver([c for c in kv[1] if is_commerce(c, erp)]),
    )
    to_resolver: KeyedStream[list[ResolverItem]] = op.merge(
        "to_resolver",
        op.filter_map("parties_to_resolver", parties, lambda kv: _to_resolver(kv[1])),
        commerce,
        order_bursts(rows, settings, late_sink),
    )
    resolver = _counting_resolver(cluster_step(resolution), tally.flow_of(flow.flow_id))
    clusters = stateful_flat_map("clusters", to_resolver, resolver)
    inputs = op.flat_map("by_golden_id", clusters, _unpack)
    golden = stateful_flat_map(
        "golden", inputs, golden_step(rules, resolution.link_threshold)
    )
    outputs = op.map("golden_out", golden, lambda kv: kv[1])

    op.output(
        "rows_out",
        op.map("rows", rows, lambda kv: kv[1]),
        row_sink or RedisCacheSink(settings.redis, settings.cache_prefix),
    )
    op.output("golden_cache_out", outputs, golden_sink or GoldenCacheSink(settings))
    # The Kafka sinks are partitioned by the golden step's key groups and wait
    # for the broker once per epoch (lifeline.emit.epoch_sink); records are
    # encoded before the exchange to the partition's worker.
    if event_sink is None:
        events = LifecycleEventSink(
            kafka_config(settings), settings.topics.lifecycle, settings.schema_registry
        )
        encoded = op.map("lifecycle_encode", golden, events.keyed)
        op.output("lifecycle_out", encoded, events)
    else:
        op.output("lifecycle_out", outputs, event_sink)
    if audit_sink is None:
        audit = AuditSink(kafka_config(settings), settings.topics.audit)
        op.output("audit_out", op.map("audit_encode", golden, audit.keyed), audit)
    else:
        op.output("audit_out", outputs, audit_sink)
    return flow


def _to_resolver(
    items: Sequence[ResolverItem],
) -> tuple[str, list[ResolverItem]] | None:
    """Route to the single resolver key (None: nothing to send)."""
    return (RESOLVER_KEY, list(items)) if items else None


def _unpack(kv: tuple[str, Any]) -> Any:
    return kv[1]


Resolved = list[list[tuple[str, list[GoldenInput]]]]
ResolverStep = Callable[
    [ClusterState | None, list[ResolverItem]], tuple[ClusterState, Resolved]
]


def _counting_resolver(step: ResolverStep, flow: str) -> ResolverStep:
    """``step``, counting the merges, splits and removals each batch decides."""

    def counted(
        state: ClusterState | None, items: list[ResolverItem]
    ) -> tuple[ClusterState, Resolved]:
        state, resolved = step(state, items)
        # An event reaches every golden id it involves: count each object once.
        kinds = {
            id(event): event.kind
            for grouped in resolved
            for _, inputs in grouped
            for item in inputs
            for event in item.events
        }
        tally.resolver_events(flow, kinds.values())
        return state, resolved

    return counted
