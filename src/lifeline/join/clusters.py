"""The resolver as a dataflow step: party changes in, golden-record inputs out.

All parties pass through one resolver (one Bytewax key), which decides the
golden id of each. After each batch this step emits, for every golden id whose
membership or member rows changed, the golden id's complete member list with
their rows. Downstream steps derive the golden record from that list alone.

Versions: every batch advances a sequence by the number of changes in it,
and everything emitted for the batch carries the sequence's new value, after
a *generation*: the wall-clock milliseconds at which this process first took
the resolver state, raised at every resume. A replay after recovery sees the
changes again in other batches (so other counts: the parties step folds one
party's changes per batch), yet every write it makes is newer than any
written before the crash, and the cache converges on the replayed state; a
stale process still writing after its successor started is outvoted too.
While the replay re-reads the last snapshot interval, the cache may show a
state up to that much older than before the crash.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lifeline.decode.change import Row
from lifeline.decode.position import SourcePosition
from lifeline.delta_dict import DeltaDict
from lifeline.join.cause import Cause
from lifeline.join.commerce import (
    CommerceState,
    Fact,
    StageHistory,
    burst_facts,
    facts_of,
    history_of,
    settle,
)
from lifeline.join.latest import RowChange
from lifeline.join.parties import PartyChange
from lifeline.join.shards import group_by_key_group
from lifeline.join.windows import OrderBurst
from lifeline.resolve import (
    DEFAULT_CONFIG,
    ClusterEvent,
    RecordDelete,
    ResolutionConfig,
    ResolutionDecision,
    Resolver,
)

RESOLVER_KEY = "resolver"

ResolverItem = PartyChange | RowChange | OrderBurst
"""What the resolver step takes: party changes, commercial rows, order bursts."""


@dataclass(frozen=True, slots=True)
class Member:
    """One source record of a golden record, with its current row.

    ``organisations`` are the organisation entries of an identity user
    (:mod:`lifeline.join.organisations`), by org id.
    """

    ref: str
    system: str
    table: str
    row: Row
    position: SourcePosition
    ts_ms: int
    organisations: tuple[Row, ...] = ()


@dataclass(frozen=True, slots=True)
class GoldenInput:
    """A golden record's members after a batch (no members: it is gone).

    ``absorbed`` lists golden ids merged into this one by the batch;
    ``decisions`` and ``events`` say why, for the audit trail; ``causes``
    are the source changes behind it (its lineage). An input with
    ``merged_into`` set retires an absorbed id: the survivor's input carries
    the merge. ``open_invoices`` and ``entitlements`` are the cache fields
    of its ERP customers' accounts (see :mod:`lifeline.join.accounts`).
    """

    golden_id: str
    version: str
    members: tuple[Member, ...]
    absorbed: tuple[str, ...] = ()
    decisions: tuple[ResolutionDecision, ...] = ()
    events: tuple[ClusterEvent, ...] = ()
    merged_into: str | None = None
    causes: tuple[Cause, ...] = ()
    facts: tuple[Fact, ...] = ()
    history: StageHistory = ()  # every stage fact of its customers, in order
    open_invoices: Mapping[str, Any] | None = None
    entitlements: Mapping[str, Any] | None = None


@dataclass(slots=True)
class ClusterState:
    """The resolver, each live party's row, and the golden id last emitted.

    The big maps are :class:`~lifeline.delta_dict.DeltaDict`: a snapshot
    pickles what changed since the last one.
    """

    resolver: Resolver
    members: DeltaDict[str, Member] = field(default_factory=DeltaDict)
    golden_of: DeltaDict[str, str] = field(default_factory=DeltaDict)
    sequence: int = 0
    commerce: CommerceState = field(default_factory=CommerceState)
    customer_refs: DeltaDict[str, str] = field(default_factory=DeltaDict)  # id -> ref
    generation: int = 0  # see the module docstring
    owner: int = 0  # the process (step) that set the generation


def version_string(sequence: int, generation: int = 0) -> str:
    """A byte-order comparable version for the cache's guard.

    Any version of a later generation sorts above every one of an earlier
    generation, and a generation from the clock (13 digits) above the
    format without one (generation 0, written before generations existed).
    """
    if generation == 0:
        return f"r:{sequence:020d}"
    return f"r:{generation:013d}:{sequence:020d}"


def _claim(state: ClusterState, owner: int) -> None:
    """Start a new generation when this process meets the state first."""
    if state.owner != owner:
        now_ms = time.time_ns() // 1_000_000
        state.generation = max(state.generation + 1, now_ms)
        state.owner = owner


def cluster_step(
    config: ResolutionConfig = DEFAULT_CONFIG,
) -> Callable[
    [ClusterState | None, list[ResolverItem]],
    tuple[ClusterState, list[list[tuple[str, list[GoldenInput]]]]],
]:
    """A Bytewax ``stateful_flat_map`` mapper over the single resolver key."""
    owner = uuid.uuid4().int >> 64

    def step(
        state: ClusterState | None, items: list[ResolverItem]
    ) -> tuple[ClusterState, list[list[tuple[str, list[GoldenInput]]]]]:
        clusters = state if state is not None else ClusterState(Resolver(config))
        _claim(clusters, owner)
        changes = [item for item in items if isinstance(item, PartyChange)]
        facts = [
            fact
            for item in items
            if not isinstance(item, PartyChange)
            for fact in (
                burst_facts(item)
                if isinstance(item, OrderBurst)
                else facts_of(clusters.commerce, item)
            )
        ]
        # Every input advances the version sequence, commercial rows included.
        clusters.sequence += len(items) - len(changes)
        inputs = _resolve(clusters, changes, facts)
        grouped = group_by_key_group(inputs, lambda item: item.golden_id)
        return clusters, [grouped] if grouped else []

    return step


def _resolve(
    state: ClusterState, changes: list[PartyChange], facts: list[Fact]
) -> list[GoldenInput]:
    for change in changes:
        ref = change.change.ref
        _track_customer_row(state, change)
        if isinstance(change.change, RecordDelete) or change.row is None:
            state.members.pop(ref, None)
        else:
            state.members[ref] = Member(
                ref,
                change.change.system,
                change.table,
                change.row,
                change.position,
                change.ts_ms,
                change.organisations,
            )
    batch = state.resolver.resolve([change.change for change in changes])
    state.sequence += len(changes)
    version = version_string(state.sequence, state.generation)
    refs = {change.change.ref for change in changes}
    for event in batch.events:
        refs.update(event.moved)
    touched: dict[str, set[str]] = {}  # golden id -> refs that entered or left
    for ref in refs:
        old = state.golden_of.pop(ref, None)
        new = state.resolver.golden_id(ref)
        if new is not None:
            state.golden_of[ref] = new
        for gid in (old, new):
            if gid is not None:
                touched.setdefault(gid, set()).add(ref)
    absorbed = _absorbed_by_survivor(batch.events)
    retired = {gid: survivor for survivor, ids in absorbed.items() for gid in ids}
    causes = _causes(changes, batch.events, touched)

    def golden_of_customer(row_id: str) -> str | None:
        ref = state.customer_refs.get(row_id)
        return None if ref is None else state.golden_of.get(ref)

    ready = settle(state.commerce, facts, golden_of_customer)
    accounts = state.commerce.accounts
    for gid in ready:
        touched.setdefault(gid, set())
    decisions_of: dict[str, list[ResolutionDecision]] = {}
    for decision in batch.decisions:
        if decision.golden_id is not None:
            decisions_of.setdefault(decision.golden_id, []).append(decision)
    events_of: dict[str, list[ClusterEvent]] = {}
    for event in batch.events:
        for gid in dict.fromkeys((event.survivor, *event.absorbed, *event.created)):
            events_of.setdefault(gid, []).append(event)
    inputs = []
    for gid in sorted(set(touched) | set(absorbed) | set(retired)):
        if gid in retired:
            inputs.append(GoldenInput(gid, version, (), merged_into=retired[gid]))
            continue
        members = _members(state, gid)
        fact_causes = tuple(_fact_cause(fact) for fact in ready.get(gid, ()))
        customer_rows = [
            str(member.row.get("id"))
            for member in members
            if member.table == "customers"
        ]
        inputs.append(
            GoldenInput(
                gid,
                version,
                members,
                absorbed.get(gid, ()),
                tuple(decisions_of.get(gid, ())),
                tuple(events_of.get(gid, ())),
                causes=causes.get(gid, ()) + fact_causes,
                facts=tuple(ready.get(gid, ())),
                history=history_of(state.commerce, customer_rows),
                open_invoices=accounts.open_invoices(customer_rows),
                entitlements=accounts.entitlements(customer_rows),
            )
        )
    return inputs


def _track_customer_row(state: ClusterState, change: PartyChange) -> None:
    """Keep the ERP customer row id -> party ref map commercial rows need."""
    if change.table != "customers" or change.row is None:
        return
    row_id = change.row.get("id")
    if row_id is not None:
        state.customer_refs[str(row_id)] = change.change.ref


def _fact_cause(fact: Fact) -> Cause:
    return Cause.of(fact.change)


def _causes(
    changes: list[PartyChange],
    events: tuple[ClusterEvent, ...],
    touched: dict[str, set[str]],
) -> dict[str, tuple[Cause, ...]]:
    """For each golden id, the batch's changes that changed it.

    A change causes a golden id's update when its record entered or left
    that golden id, or when it triggered a merge or split involving it. Its
    causes are the rows it names (a link's change behind an identity user's
    links, an organisation's or membership's behind its entries), else the
    party's own row. A row behind several members' changes (an
    organisation's rename) is named once.
    """
    by_ref = {
        change.change.ref: change.causes or (_party_cause(change),)
        for change in changes
    }
    refs_of = {gid: set(refs) for gid, refs in touched.items()}
    for event in events:
        for gid in (event.survivor, *event.absorbed, *event.created):
            refs_of.setdefault(gid, set()).add(event.trigger)
    return {
        gid: tuple(
            dict.fromkeys(
                cause for ref in sorted(refs) for cause in by_ref.get(ref, ())
            )
        )
        for gid, refs in refs_of.items()
    }


def _party_cause(change: PartyChange) -> Cause:
    """The party's own row at the change's position, for a change naming none."""
    ref, system = change.change.ref, change.change.system
    return Cause(ref, system, change.table, change.position, change.ts_ms)


def _absorbed_by_survivor(
    events: tuple[ClusterEvent, ...],
) -> dict[str, tuple[str, ...]]:
    absorbed: dict[str, tuple[str, ...]] = {}
    for event in events:
        if event.kind == "merged":
            absorbed[event.survivor] = absorbed.get(event.survivor, ()) + event.absorbed
    return absorbed


def _members(state: ClusterState, golden_id: str) -> tuple[Member, ...]:
    """The members of ``golden_id`` with their rows, by ref."""
    refs = state.resolver.members(golden_id)
    return tuple(state.members[ref] for ref in sorted(refs) if ref in state.members)
