"""Merges move every index atomically; readers never see a dangling entry."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import redis

from lifeline.cache import (
    CacheKeys,
    CacheReader,
    Delete,
    GoldenCacheWriter,
    Merge,
    Retrier,
)
from tests.cache.helpers import (
    dump,
    email,
    upsert,
    version,
    violations,
)


def _two_records(writer: GoldenCacheWriter) -> None:
    writer.apply(
        [
            upsert(
                "g1",
                version(1),
                source_ids=["erp:C-1", "identity:u-1"],
                email_hashes=[email(1)],
                stage="customer",
                open_invoices={"INV-1": {"amount": "1.00"}, "INV-9": {"from": "g1"}},
                entitlements={"support": "gold"},
            ),
            upsert(
                "g2",
                version(2),
                source_ids=["erp:C-2"],
                email_hashes=[email(2)],
                open_invoices={"INV-9": {"from": "g2"}},
            ),
        ]
    )


def test_a_merge_moves_every_index_to_the_survivor(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    assert writer.apply([Merge("g2", ["g1"], version(3))]).applied == 1
    keys = CacheKeys(prefix)
    found = dump(client, prefix)
    for source in ("erp:C-1", "identity:u-1", "erp:C-2"):
        assert found[keys.source_index(source)] == "g2"
    assert found[keys.email_index(email(1))] == {"g2"}
    assert found[keys.email_index(email(2))] == {"g2"}
    assert keys.golden("g1") not in found
    survivor = reader.by_golden_id("g2")
    assert survivor is not None
    assert survivor.version == version(3)
    assert set(survivor.source_ids) == {"erp:C-1", "identity:u-1", "erp:C-2"}
    assert set(survivor.email_hashes) == {email(1), email(2)}
    # The survivor keeps its own parts and takes those it lacks.
    assert survivor.open_invoices == {"INV-9": {"from": "g2"}}
    assert survivor.entitlements == {"support": "gold"}
    assert survivor.stage == "customer"
    assert violations(client, prefix) == []


def test_readers_holding_an_old_id_follow_redirects(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    _two_records(writer)
    writer.apply(
        [
            upsert("g3", version(3), source_ids=["crm:3"]),
            Merge("g2", ["g1"], version(4)),
            Merge("g3", ["g2"], version(5)),
        ]
    )
    found = reader.by_golden_id("g1")
    assert found is not None
    # The second merge re-pointed g1's redirect: one hop, not a chain.
    assert (found.golden_id, found.merged_from) == ("g3", ("g1",))
    assert set(found.merged_ids) == {"g1", "g2"}
    by_source = reader.by_source_id("identity:u-1")
    assert by_source is not None and by_source.golden_id == "g3"


def test_readers_follow_redirect_chains(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    # gA had no record when it was merged, so g5 kept no list to re-point.
    writer.apply(
        [
            Merge("g5", ["gA"], version(1)),
            upsert("g6", version(2)),
            Merge("g6", ["g5"], version(3)),
        ]
    )
    found = reader.by_golden_id("gA")
    assert found is not None
    assert (found.golden_id, found.merged_from) == ("g6", ("gA", "g5"))


def test_a_stale_merge_is_ignored(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    _two_records(writer)
    writer.apply([upsert("g1", version(9), source_ids=["erp:C-1"])])
    before = dump(client, prefix)
    assert writer.apply([Merge("g2", ["g1"], version(5))]).stale == 1
    assert writer.apply([Merge("g2", ["g2"], version(6))]).stale == 1
    assert dump(client, prefix) == before


def test_a_replayed_merge_changes_nothing(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    _two_records(writer)
    writer.apply([Merge("g2", ["g1"], version(3))])
    before = dump(client, prefix)
    assert writer.apply([Merge("g2", ["g1"], version(3))]).stale == 1
    assert dump(client, prefix) == before


def test_old_changes_of_an_absorbed_id_do_not_revive_it(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    _two_records(writer)
    writer.apply([Merge("g2", ["g1"], version(3))])
    assert writer.apply([upsert("g1", version(2), source_ids=["erp:C-1"])]).stale == 1
    found = reader.by_source_id("erp:C-1")
    assert found is not None and found.golden_id == "g2"


def test_a_newer_upsert_of_an_absorbed_id_splits_it_off_again(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    writer.apply(
        [
            Merge("g2", ["g1"], version(3)),
            upsert("g1", version(4), source_ids=["erp:C-1"]),
            upsert("g2", version(5), source_ids=["erp:C-2", "identity:u-1"]),
        ]
    )
    assert not client.exists(CacheKeys(prefix).redirect("g1"))
    split = reader.by_source_id("erp:C-1")
    assert split is not None and split.golden_id == "g1"
    assert violations(client, prefix) == []


def test_a_survivor_without_a_record_adopts_the_first_absorbed_one(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    writer.apply([Merge("g9", ["g1", "g2"], version(3))])
    found = reader.by_golden_id("g9")
    assert found is not None
    assert found.record == {"name": "customer g1", "at": version(1)}
    assert found.stage == "customer"
    assert found.version == version(3)
    assert set(found.source_ids) == {"erp:C-1", "identity:u-1", "erp:C-2"}
    assert found.open_invoices["INV-9"] == {"from": "g1"}
    assert violations(client, prefix) == []


def test_merging_into_a_survivor_deleted_later_cleans_the_indexes(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    # Delivered out of order: the survivor's later delete arrives first.
    writer.apply([Delete("g2", version(9)), Merge("g2", ["g1"], version(3))])
    keys = CacheKeys(prefix)
    assert set(dump(client, prefix)) == {keys.tombstone("g2"), keys.redirect("g1")}
    assert reader.by_golden_id("g1") is None
    assert reader.lookup("erp:C-1") == []


def test_a_merge_after_the_survivor_was_deleted_revives_it(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    writer.apply([Delete("g2", version(3)), Merge("g2", ["g1"], version(4))])
    found = reader.by_source_id("erp:C-1")
    assert found is not None and found.golden_id == "g2"
    assert not client.exists(CacheKeys(prefix).tombstone("g2"))
    assert violations(client, prefix) == []


def test_a_merge_replayed_after_the_survivors_newer_upsert(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    everything = ["erp:C-1", "identity:u-1", "erp:C-2"]
    writer.apply(
        [
            upsert("g2", version(5), source_ids=everything, email_hashes=[email(2)]),
            Merge("g2", ["g1"], version(3)),
        ]
    )
    found = reader.by_golden_id("g1")
    assert found is not None and found.golden_id == "g2"
    assert found.version == version(5)
    assert violations(client, prefix) == []


def test_a_merge_into_an_id_merged_away_earlier_revives_it(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    _two_records(writer)
    writer.apply(
        [
            upsert("g3", version(3)),
            Merge("g3", ["g1"], version(4)),
            Merge("g1", ["g2"], version(5)),  # g1 is a survivor again at 5
        ]
    )
    found = reader.by_source_id("erp:C-2")
    assert found is not None and found.golden_id == "g1"
    assert found.record == {"name": "customer g2", "at": version(2)}
    assert not client.exists(CacheKeys(prefix).redirect("g1"))
    assert violations(client, prefix) == []


def test_merges_into_a_cycle_do_not_loop(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    _two_records(writer)
    writer.apply([Merge("g2", ["g1"], version(3)), Merge("g1", ["g2"], version(4))])
    assert violations(client, prefix) == []
    assert CacheReader(client, prefix).lookup("erp:C-2") != []


@dataclass
class _Race:
    """What the writer, readers and checker of the concurrency test share."""

    client: redis.Redis
    prefix: str
    published: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def write(self) -> None:
        """Each new record absorbs the last survivor: a chain of merges."""
        writer = GoldenCacheWriter(self.client, self.prefix, retrier=Retrier(0))
        survivor, step = "r0", 1
        writer.apply([upsert("r0", version(step), source_ids=["erp:0"])])
        self.published.append("erp:0")
        n = 0
        while not self.done.is_set():
            n, step = n + 1, step + 3
            new = f"r{n}"
            sources, emails = [f"erp:{n}"], [email(n % 3)]
            writer.apply(
                [
                    upsert(new, version(step), source_ids=sources, email_hashes=emails),
                    Merge(new, [survivor], version(step + 1)),
                ]
            )
            survivor = new
            self.published.append(f"erp:{n}")

    def read(self, seed: int) -> None:
        """Every published source id must resolve to a record listing it."""
        rng, reader = random.Random(seed), CacheReader(self.client, self.prefix)
        keys = CacheKeys(self.prefix)
        while not self.done.is_set():
            if not self.published:
                time.sleep(0.001)
                continue
            source = rng.choice(self.published)
            found = reader.by_source_id(source)
            if found is None or source not in found.source_ids:
                self.problems.append(f"{source} not found")
            owner = self.client.get(keys.source_index(source))
            if not isinstance(owner, str) or not self.client.exists(
                keys.golden(owner), keys.redirect(owner)
            ):
                self.problems.append(f"{source} -> {owner!r}: no record, no redirect")

    def check(self) -> None:
        """Atomic checks of every index between the writer's changes."""
        while not self.done.is_set():
            self.problems.extend(violations(self.client, self.prefix))


def test_concurrent_readers_never_see_an_index_entry_without_its_record(
    client: redis.Redis, prefix: str
) -> None:
    race = _Race(client, prefix)
    threads = [threading.Thread(target=race.write), threading.Thread(target=race.check)]
    threads += [threading.Thread(target=race.read, args=(seed,)) for seed in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    race.done.set()
    for thread in threads:
        thread.join()
    assert len(race.published) > 50
    assert race.problems == []
    survivor = CacheReader(client, prefix).by_golden_id("r0")
    assert survivor is not None
    assert survivor.golden_id == f"r{len(race.published) - 1}"
    assert set(survivor.source_ids) == set(race.published)
