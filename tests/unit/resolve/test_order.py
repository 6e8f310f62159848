"""The final clustering does not depend on the order changes arrive in."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.resolve import RecordChange, RecordDelete, Resolver, SourceRecord
from lifeline.resolve.rules import tax_relation
from lifeline.resolve.synthetic import generate

IDS = [f"erp:C-{n}" for n in range(6)] + [f"identity:u-{n}" for n in range(6)]


def partition(assignments: Mapping[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for ref, golden in assignments.items():
        groups[golden].add(ref)
    return {frozenset(group) for group in groups.values()}


def resolved(changes: Sequence[RecordChange], batch: int = 3) -> Resolver:
    resolver = Resolver()
    for start in range(0, len(changes), batch):
        resolver.resolve(changes[start : start + batch])
    return resolver


def keyed(ref: str, fields: dict[str, object]) -> SourceRecord:
    system, _, id_ = ref.partition(":")
    return SourceRecord.from_fields(system, id_, fields)


# Records carrying only deterministic keys: a few emails, tax ids and links.
deterministic_fields = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(["a@example.com", "B@Example.com ", "c@example.org"]),
        "tax_id": st.sampled_from(["DE 111 111 111", "DE111111111", "FR222222222"]),
        "links": st.lists(st.sampled_from(IDS), max_size=2),
    },
)
record_sets = st.dictionaries(st.sampled_from(IDS), deterministic_fields, min_size=1)


def reference_partition(records: Sequence[SourceRecord]) -> set[frozenset[str]]:
    """Components of 'shares a tax id, link, or email (no tax conflict)'."""
    parent = {r.ref: r.ref for r in records}

    def root(ref: str) -> str:
        while parent[ref] != ref:
            ref = parent[ref]
        return ref

    for a in records:
        for b in records:
            ka, kb = a.keys, b.keys
            tax = tax_relation(ka.tax, kb.tax)  # email yields to conflicting tax ids
            shared = tax == 1 or (ka.email and ka.email == kb.email and tax == 0)
            linked = a.ref in kb.links or set(ka.links) & set(kb.links)
            if a.ref != b.ref and (shared or linked):
                parent[root(a.ref)] = root(b.ref)
    return partition({r.ref: root(r.ref) for r in records})


@settings(max_examples=200, deadline=None)
@given(record_sets, st.randoms(use_true_random=False))
def test_deterministic_keys_cluster_the_same_in_any_order(
    fields: dict[str, dict[str, object]], rng: random.Random
) -> None:
    records = [keyed(ref, f) for ref, f in fields.items()]
    shuffled = list(records)
    rng.shuffle(shuffled)
    expected = reference_partition(records)
    assert partition(resolved(records).assignments()) == expected
    assert partition(resolved(shuffled, batch=1).assignments()) == expected


operations = st.lists(
    st.tuples(st.sampled_from(IDS), st.one_of(st.none(), deterministic_fields)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_updates_and_deletes_end_where_a_fresh_start_would(
    ops: list[tuple[str, dict[str, object] | None]],
) -> None:
    changes: list[RecordChange] = []
    final: dict[str, SourceRecord] = {}
    for ref, fields in ops:
        if fields is None:
            system, _, id_ = ref.partition(":")
            changes.append(RecordDelete(system, id_))
            final.pop(ref, None)
        else:
            changes.append(keyed(ref, fields))
            final[ref] = keyed(ref, fields)
    incremental = resolved(changes)
    fresh = resolved(list(final.values()))
    assert partition(incremental.assignments()) == partition(fresh.assignments())
    assert incremental.stats() == fresh.stats()


SAMPLE = [keyed(r.ref, r.fields) for r in generate(120, seed=5)]


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_fuzzy_clustering_of_noisy_records_is_order_independent(
    rng: random.Random,
) -> None:
    shuffled = list(SAMPLE)
    rng.shuffle(shuffled)
    expected = partition(resolved(SAMPLE, batch=50).assignments())
    assert partition(resolved(shuffled, batch=7).assignments()) == expected


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_deleting_and_reinserting_noisy_records_restores_the_clustering(
    rng: random.Random,
) -> None:
    resolver = resolved(SAMPLE, batch=50)
    expected = partition(resolver.assignments())
    chosen = rng.sample(SAMPLE, 30)
    resolver.resolve([RecordDelete(r.system, r.id) for r in chosen])
    resolver.resolve(chosen)
    assert partition(resolver.assignments()) == expected
