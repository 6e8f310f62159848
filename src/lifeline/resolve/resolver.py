"""The incremental identity resolver: record changes in, golden ids out.

Clusters are the connected components of the graph whose edges are the
pairs of live records that share a usable block key and satisfy the pair
rule (:func:`lifeline.resolve.rules.link`). The resolver keeps that
partition up to date change by change:

* insert - the record is compared with its block candidates; it founds a
  cluster, joins the one it links to, or merges every cluster it links to.
* update - the record's cluster is re-checked with its new keys (it may
  split), then the record's new links may merge its cluster with others.
  An upsert whose keys did not change is a no-op.
* delete - the record leaves; the rest of its cluster is re-checked.

Because the pair rule is pure and symmetric, the final partition does not
depend on the order of the changes (as long as no block outgrows its
limit); golden ids do, through the survivor and split rules of
:mod:`lifeline.resolve.state`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from lifeline.resolve.blocking import BlockIndex, BlockKey, block_keys
from lifeline.resolve.config import DEFAULT_CONFIG, ResolutionConfig
from lifeline.resolve.decisions import (
    DELETED,
    NO_MATCH,
    UNCHANGED,
    ClusterEvent,
    ResolutionBatch,
    ResolutionDecision,
)
from lifeline.resolve.record import (
    RecordChange,
    RecordDelete,
    RecordKeys,
    SourceRecord,
)
from lifeline.resolve.rules import PRIORITY, Link, link
from lifeline.resolve.state import ClusterState

logger = logging.getLogger(__name__)

# golden id -> (first link found into that cluster, ref it was found with)
_Found = dict[str, tuple[Link, str]]
# change, rule, link or None, matched ref or None
_Pending = tuple[RecordChange, str, Link | None, str | None]


class Resolver:
    """Incremental, picklable identity-resolution state (one per flow key).

    Not thread-safe. Records must be keyed with this resolver's config.
    """

    __slots__ = ("_index", "_state", "config")

    def __init__(self, config: ResolutionConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self._state = ClusterState()
        self._index = BlockIndex(config)

    def __len__(self) -> int:
        """The number of live records."""
        return len(self._state.keys)

    def resolve(self, changes: Iterable[RecordChange]) -> ResolutionBatch:
        """Apply ``changes`` in order; one decision per change.

        Never raises for record content (records are validated when they
        are built); deleting an unknown record is a no-op decision.
        """
        pending: list[_Pending] = []
        events: list[ClusterEvent] = []
        for change in changes:
            if isinstance(change, RecordDelete):
                self._delete(change, pending, events)
            else:
                self._upsert(change, pending, events)
        return ResolutionBatch(tuple(self._finish(pending)), tuple(events))

    def golden_id(self, ref: str) -> str | None:
        """The golden id of the live record ``ref`` (``system:id``)."""
        return self._state.golden_of(ref)

    def members(self, golden_id: str) -> tuple[str, ...]:
        """The refs in cluster ``golden_id``; empty when it is not live."""
        return self._state.members(golden_id)

    def assignments(self) -> dict[str, str]:
        """Every live ref and its golden id (a copy)."""
        return self._state.assignments()

    def stats(self) -> dict[str, int]:
        """Sizes for metrics: records, clusters and block keys."""
        return {
            "records": len(self._state.keys),
            "clusters": self._state.cluster_count(),
            "block_keys": len(self._index),
        }

    # --- changes -------------------------------------------------------------

    def _upsert(
        self, record: SourceRecord, pending: list[_Pending], events: list[ClusterEvent]
    ) -> None:
        ref, keys = record.ref, record.keys
        old = self._state.keys.get(ref)
        if old == keys:
            pending.append((record, UNCHANGED, None, None))
            return
        blocks = block_keys(keys)
        if old is None:
            found = self._links(keys, blocks)
            self._index.add(ref, blocks)
            self._place_new(keys, found, events)
        else:
            self._index.remove(ref, block_keys(old))
            self._index.add(ref, blocks)
            self._state.update(keys)
            golden = self._state.golden_of(ref) or ""
            if len(self._state.members(golden)) > 1:
                self._recheck(golden, ref, events)
            found = self._links(keys, blocks)
            self._merge_into(ref, found, events)
        pending.append(_decision_of(record, found))

    def _delete(
        self, change: RecordDelete, pending: list[_Pending], events: list[ClusterEvent]
    ) -> None:
        ref = change.ref
        pending.append((change, DELETED, None, None))
        old = self._state.keys.get(ref)
        if old is None:
            return
        self._index.remove(ref, block_keys(old))
        golden = self._state.leave(ref)
        size = len(self._state.members(golden))
        if size == 0:
            reason = f"its last member {ref} was deleted"
            events.append(ClusterEvent("removed", golden, ref, reason))
        elif size > 1:
            self._recheck(golden, ref, events)

    # --- linking -------------------------------------------------------------

    def _candidates(self, keys: RecordKeys, blocks: list[BlockKey]) -> list[str]:
        """Records linked to directly, then records sharing a block key."""
        live = self._state.keys
        shared = self._index.candidates(keys, blocks)
        direct = [ref for ref in keys.links if ref in live and ref != keys.ref]
        if not direct:
            return shared
        return direct + [ref for ref in shared if ref not in direct]

    def _links(self, keys: RecordKeys, blocks: list[BlockKey]) -> _Found:
        """The clusters the record links to, with the first link found."""
        found: _Found = {}
        live, golden_of, config = self._state.keys, self._state.golden_of, self.config
        for other_ref in self._candidates(keys, blocks):
            golden = golden_of(other_ref) or ""
            if golden in found:
                continue
            hit = link(keys, live[other_ref], config)
            if hit is not None:
                found[golden] = (hit, other_ref)
        return found

    def _place_new(
        self, keys: RecordKeys, found: _Found, events: list[ClusterEvent]
    ) -> None:
        if not found:
            self._state.found(keys)
            return
        target = next(iter(found))
        if len(found) > 1:
            target = self._merge(list(found), found, keys.ref, events)
        self._state.join(target, keys)

    def _merge_into(self, ref: str, found: _Found, events: list[ClusterEvent]) -> None:
        own = self._state.golden_of(ref) or ""
        others = [golden for golden in found if golden != own]
        if others:
            self._merge([own, *others], found, ref, events)

    def _merge(
        self,
        goldens: list[str],
        found: _Found,
        trigger: str,
        events: list[ClusterEvent],
    ) -> str:
        moved = {golden: self._state.members(golden) for golden in goldens}
        survivor, absorbed = self._state.merge(goldens)
        why = ", ".join(
            f"{golden} by {hit.rule} with {other}"
            for golden, (hit, other) in found.items()
        )
        events.append(
            ClusterEvent(
                "merged",
                survivor,
                trigger,
                f"{trigger} links {why}",
                absorbed=tuple(absorbed),
                moved=tuple(ref for golden in absorbed for ref in moved[golden]),
            )
        )
        return survivor

    # --- splits --------------------------------------------------------------

    def _recheck(self, golden: str, trigger: str, events: list[ClusterEvent]) -> None:
        """Split a cluster if its members no longer form one component."""
        parts = self._components(self._state.members(golden))
        if len(parts) == 1:
            return
        parts.sort(key=self._state.earliest)
        reason = (
            f"after the change of {trigger} no rule links these members "
            f"to the rest of {golden}"
        )
        for part in parts[1:]:
            new = self._state.split_off(golden, part)
            events.append(
                ClusterEvent(
                    "split",
                    golden,
                    trigger,
                    reason,
                    created=(new,),
                    moved=tuple(sorted(part)),
                )
            )

    def _components(self, members: tuple[str, ...]) -> list[list[str]]:
        """Connected components of the link graph restricted to ``members``."""
        remaining = set(members)
        parts: list[list[str]] = []
        for start in members:
            if start in remaining:
                remaining.discard(start)
                parts.append(self._reach(start, remaining))
        return parts

    def _reach(self, start: str, remaining: set[str]) -> list[str]:
        """``start`` and every ref of ``remaining`` linked to it, transitively.

        The refs reached are taken out of ``remaining``.
        """
        part, stack = [start], [start]
        while stack:
            for other in self._linked(stack.pop(), remaining):
                remaining.discard(other)
                part.append(other)
                stack.append(other)
        return part

    def _linked(self, ref: str, within: set[str]) -> list[str]:
        live, config = self._state.keys, self.config
        keys = live[ref]
        return [
            other
            for other in self._candidates(keys, block_keys(keys))
            if other in within and link(keys, live[other], config) is not None
        ]

    def _finish(self, pending: list[_Pending]) -> list[ResolutionDecision]:
        golden_of = self._state.golden_of
        out = []
        for change, rule, hit, partner in pending:
            system, id_ = change.system, change.id
            golden = None if rule == DELETED else golden_of(change.ref)
            if hit is None:
                out.append(ResolutionDecision(system, id_, golden, rule))
            else:
                keys, score = hit.matched_keys, hit.score
                out.append(
                    ResolutionDecision(system, id_, golden, rule, keys, score, partner)
                )
        return out


def _decision_of(record: SourceRecord, found: _Found) -> _Pending:
    """The pending decision: the strongest link found, or no match."""
    if not found:
        return (record, NO_MATCH, None, None)
    hit, partner = max(found.values(), key=lambda f: PRIORITY[f[0].rule])
    return (record, hit.rule, hit, partner)


def resolve_step(
    config: ResolutionConfig = DEFAULT_CONFIG,
) -> Callable[
    [Resolver | None, list[RecordChange]], tuple[Resolver, list[ResolutionBatch]]
]:
    """A Bytewax ``stateful_flat_map`` mapper over batches of changes."""

    def step(
        state: Resolver | None, batch: list[RecordChange]
    ) -> tuple[Resolver, list[ResolutionBatch]]:
        resolver = state if state is not None else Resolver(config)
        if state is None:
            logger.info("resolver started config_threshold=%s", config.link_threshold)
        return resolver, [resolver.resolve(batch)]

    return step
