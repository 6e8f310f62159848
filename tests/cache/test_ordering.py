"""Out-of-order, replayed and concurrent writes never regress the cache."""

from __future__ import annotations

import itertools
import random
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifeline.cache import (
    CacheKeys,
    CacheReader,
    CacheUpdate,
    Delete,
    GoldenCacheWriter,
    Merge,
    Retrier,
    Upsert,
)
from lifeline.settings import Settings
from tests.cache.conftest import new_prefix
from tests.cache.helpers import (
    apply_shuffled,
    dump,
    email,
    stored_versions,
    upsert,
    version,
    versioned_upserts,
    violations,
)

GIDS = ["g0", "g1", "g2", "g3"]
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Plan:
    """A stream of changes in version order and an order to deliver them in."""

    ops: list[CacheUpdate]
    delivery: list[CacheUpdate]
    cuts: list[int]


def _op(
    step: int, gid: int, kind: str, sources: list[int], emails: list[int], shared: bool
) -> CacheUpdate:
    golden_id = GIDS[gid]
    if kind == "delete":
        return Delete(golden_id, version(step))
    if kind == "merge":
        return Merge(golden_id, [GIDS[(gid + 1) % len(GIDS)]], version(step))
    owner = "" if shared else f"{golden_id}-"
    return upsert(
        golden_id,
        version(step),
        source_ids=[f"erp:{owner}{s}" for s in sorted(set(sources))],
        email_hashes=[email(e) for e in sorted(set(emails))],
    )


@st.composite
def plans(draw: st.DrawFn, kinds: list[str], shared: bool) -> Plan:
    raw = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(GIDS) - 1),
                st.sampled_from(kinds),
                st.lists(st.integers(0, 3), max_size=3),
                st.lists(st.integers(0, 3), max_size=2),
            ),
            min_size=1,
            max_size=25,
        )
    )
    ops = [_op(i + 1, *item, shared=shared) for i, item in enumerate(raw)]
    replays = draw(st.lists(st.sampled_from(ops), max_size=10))
    delivery = draw(st.permutations(ops + replays))
    cuts = draw(st.lists(st.integers(1, len(delivery)), max_size=4))
    return Plan(ops, delivery, sorted(set(cuts)))


def _batches(plan: Plan) -> list[list[CacheUpdate]]:
    edges = [0, *plan.cuts, len(plan.delivery)]
    return [plan.delivery[a:b] for a, b in itertools.pairwise(edges) if b > a]


def _last_per_gid(ops: list[CacheUpdate]) -> dict[str, CacheUpdate]:
    last: dict[str, CacheUpdate] = {}
    for op in ops:  # in version order
        assert not isinstance(op, Merge)
        last[op.golden_id] = op
    return last


def _check_final_records(
    client: redis.Redis, prefix: str, last: dict[str, CacheUpdate]
) -> None:
    reader, keys = CacheReader(client, prefix), CacheKeys(prefix)
    for gid, op in last.items():
        found = reader.by_golden_id(gid)
        if isinstance(op, Delete):
            assert found is None
            assert client.get(keys.tombstone(gid)) == op.version
            continue
        assert isinstance(op, Upsert)
        assert found is not None
        assert (found.version, found.record) == (op.version, dict(op.record))
        assert found.source_ids == tuple(op.source_ids)
        assert found.email_hashes == tuple(op.email_hashes)


@PROPERTY
@given(plans(["upsert", "upsert", "delete"], shared=False))
def test_any_delivery_order_ends_with_the_newest_change(
    client: redis.Redis, plan: Plan
) -> None:
    prefix = new_prefix()
    writer = GoldenCacheWriter(
        client, prefix, retrier=Retrier(max_wait=0), changes_per_call=3
    )
    for batch in _batches(plan):
        writer.apply(batch)
        assert violations(client, prefix) == []
    last = _last_per_gid(plan.ops)
    _check_final_records(client, prefix, last)
    # Source ids are per record here, so the indexes are exactly determined.
    keys = CacheKeys(prefix)
    live = [op for op in last.values() if isinstance(op, Upsert)]
    expected_sources = {
        keys.source_index(s): op.golden_id for op in live for s in op.source_ids
    }
    expected_emails: dict[str, set[str]] = {}
    for op in live:
        for h in op.email_hashes:
            expected_emails.setdefault(keys.email_index(h), set()).add(op.golden_id)
    indexes = {k: v for k, v in dump(client, prefix).items() if ":idx:" in k}
    assert indexes == {**expected_sources, **expected_emails}


@PROPERTY
@given(plans(["upsert", "upsert", "delete"], shared=True))
def test_contended_source_ids_never_regress_a_record(
    client: redis.Redis, plan: Plan
) -> None:
    prefix = new_prefix()
    writer = GoldenCacheWriter(client, prefix, retrier=Retrier(max_wait=0))
    for batch in _batches(plan):
        writer.apply(batch)
        assert violations(client, prefix) == []
    _check_final_records(client, prefix, _last_per_gid(plan.ops))


@PROPERTY
@given(plans(["upsert", "upsert", "delete", "merge"], shared=True))
def test_merges_in_any_order_keep_indexes_consistent_and_versions_monotonic(
    client: redis.Redis, plan: Plan
) -> None:
    prefix = new_prefix()
    writer = GoldenCacheWriter(client, prefix, retrier=Retrier(max_wait=0))
    before: list[str | None] = [None] * len(GIDS)
    for batch in _batches(plan):
        writer.apply(batch)
        assert violations(client, prefix) == []
        after = stored_versions(client, prefix, GIDS)
        for old, new in zip(before, after, strict=True):
            assert old is None or (new is not None and new >= old)
        before = after


def _check_versioned_upserts(
    client: redis.Redis, prefix: str, gids: int, last: int
) -> None:
    reader, keys = CacheReader(client, prefix), CacheKeys(prefix)
    for g in range(gids):
        found = reader.by_golden_id(f"g{g}")
        assert found is not None and found.version == version(last)
        assert found.record == {"name": f"customer g{g}", "at": version(last)}
    sources = {k: v for k, v in dump(client, prefix).items() if ":idx:src:" in k}
    assert sources == {
        keys.source_index(f"erp:g{g}-{last % 3}"): f"g{g}" for g in range(gids)
    }
    members = client.smembers(keys.email_index(email(last % 5)))
    assert members == {f"g{g}" for g in range(gids)}
    assert violations(client, prefix) == []


def test_concurrent_threads_never_regress_a_record(client: redis.Redis) -> None:
    prefix, gids, versions = new_prefix(), 40, 25
    names = [f"g{g}" for g in range(gids)]
    stop, regressions = threading.Event(), []

    def monitor() -> None:
        seen: dict[str, str] = {}
        while not stop.is_set():
            for name, found in zip(
                names, stored_versions(client, prefix, names), strict=True
            ):
                if found is not None and name in seen and found < seen[name]:
                    regressions.append((name, seen[name], found))
                if found is not None:
                    seen[name] = found

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        updates = versioned_upserts(gids, versions)
        updates += rng.sample(updates, 200)
        rng.shuffle(updates)
        writer = GoldenCacheWriter(client, prefix)
        for start in range(0, len(updates), 100):
            writer.apply(updates[start : start + 100])

    watcher = threading.Thread(target=monitor)
    watcher.start()
    workers = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()
    watcher.join()
    assert regressions == []
    _check_versioned_upserts(client, prefix, gids, versions)


def test_concurrent_processes_never_regress_a_record(
    client: redis.Redis, cache_settings: Settings
) -> None:
    prefix, gids, versions = new_prefix(), 30, 20
    port = cache_settings.redis.port
    with ProcessPoolExecutor(3, mp_context=get_context("spawn")) as pool:
        runs = [
            pool.submit(apply_shuffled, port, prefix, seed, gids, versions)
            for seed in range(3)
        ]
        applied = [run.result(timeout=120) for run in runs]
    # Every change applied at most once across all processes.
    assert sum(applied) <= gids * versions
    _check_versioned_upserts(client, prefix, gids, versions)
