"""The writer against a real Redis: layout, versions, indexes, tombstones."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import redis

from lifeline.cache import (
    ApplyResult,
    CacheDataError,
    CacheKeys,
    CacheReader,
    Delete,
    GoldenCacheWriter,
    Merge,
    Retrier,
    Upsert,
    build_client,
)
from lifeline.settings import Settings
from tests.cache.conftest import new_prefix
from tests.cache.helpers import dump, email, upsert, version, violations


def test_upsert_writes_exactly_the_documented_layout(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    result = writer.apply(
        [
            Upsert(
                "g1",
                version(1),
                {"name": "Ada", "credit": "12.50"},
                source_ids=["erp:C-1", "identity:u-1"],
                email_hashes=[email(1)],
                stage="customer",
                open_invoices={"INV-1": {"amount": "12.50"}},
                entitlements={"support": "gold", "seats": 3},
            )
        ]
    )
    assert (result.applied, result.stale) == (1, 0)
    keys = CacheKeys(prefix)
    found = dump(client, prefix)
    golden = found.pop(keys.golden("g1"))
    assert found == {
        keys.source_index("erp:C-1"): "g1",
        keys.source_index("identity:u-1"): "g1",
        keys.email_index(email(1)): {"g1"},
    }
    updated_at = golden.pop("updated_at")
    assert updated_at.endswith("+00:00")
    assert golden == {
        "version": version(1),
        "record": '{"name":"Ada","credit":"12.50"}',
        "stage": "customer",
        "source_ids": '["erp:C-1","identity:u-1"]',
        "email_hashes": f'["{email(1)}"]',
        "open_invoices": '{"INV-1":{"amount":"12.50"}}',
        "entitlements": '{"support":"gold","seats":3}',
    }


def test_replays_and_older_versions_are_stale(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    assert writer.apply([upsert("g1", version(5))]).applied == 1
    result = writer.apply([upsert("g1", version(5)), upsert("g1", version(4))])
    assert (result.applied, result.stale) == (0, 2)
    found = reader.by_golden_id("g1")
    assert found is not None and found.version == version(5)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("p:9", "p:a"),  # digits before letters
        ("a", "a0"),  # a prefix is older
        ("Z", "a"),  # upper case before lower case, whatever the locale
        ("z", "\u00e9"),  # UTF-8 bytes above ASCII
        ("m:" + "0" * 40 + "1", "m:" + "0" * 40 + "2"),  # long common prefix
        ("m:" + "0" * 16 + ".1", "m:" + "0" * 16 + ".10"),
    ],
)
def test_versions_compare_byte_by_byte(
    writer: GoldenCacheWriter, reader: CacheReader, older: str, newer: str
) -> None:
    assert older.encode() < newer.encode()
    writer.apply([upsert("g1", newer)])
    assert writer.apply([upsert("g1", older)]).stale == 1
    found = reader.by_golden_id("g1")
    assert found is not None and found.version == newer


def test_an_upsert_drops_index_entries_no_longer_listed(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    writer.apply(
        [
            upsert(
                "g1", version(1), source_ids=["erp:1", "erp:2"], email_hashes=[email(1)]
            )
        ]
    )
    writer.apply(
        [
            upsert(
                "g1", version(2), source_ids=["erp:2", "erp:3"], email_hashes=[email(2)]
            )
        ]
    )
    keys = CacheKeys(prefix)
    assert client.get(keys.source_index("erp:1")) is None
    assert client.mget(keys.source_index("erp:2"), keys.source_index("erp:3")) == [
        "g1",
        "g1",
    ]
    assert not client.exists(keys.email_index(email(1)))
    assert client.smembers(keys.email_index(email(2))) == {"g1"}
    assert violations(client, prefix) == []


def test_none_keeps_and_empty_clears_stage_invoices_and_entitlements(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    invoices = {"INV-1": {"amount": "1.00"}, "INV-2": {"amount": "2.00"}}
    writer.apply(
        [
            upsert(
                "g1", version(1), stage="lead", open_invoices=invoices, entitlements={}
            )
        ]
    )
    writer.apply([upsert("g1", version(2))])
    kept = reader.by_golden_id("g1")
    assert kept is not None
    assert (kept.stage, kept.open_invoices, kept.entitlements) == ("lead", invoices, {})
    writer.apply(
        [
            upsert(
                "g1",
                version(3),
                stage="customer",
                open_invoices={"INV-3": {"amount": "3.00"}},
                entitlements={"sso": True},
            )
        ]
    )
    replaced = reader.by_golden_id("g1")
    assert replaced is not None
    assert replaced.stage == "customer"
    assert replaced.open_invoices == {"INV-3": {"amount": "3.00"}}
    assert replaced.entitlements == {"sso": True}
    writer.apply([upsert("g1", version(4), open_invoices={}, entitlements={})])
    cleared = reader.by_golden_id("g1")
    assert cleared is not None
    assert (cleared.open_invoices, cleared.entitlements) == ({}, {})


def test_delete_cleans_every_index_and_keeps_its_version(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    writer.apply(
        [
            upsert(
                "g1",
                version(1),
                source_ids=["erp:1", "identity:u-1"],
                email_hashes=[email(1)],
                open_invoices={"INV-1": 1},
                entitlements={"a": 1},
            )
        ]
    )
    assert writer.apply([Delete("g1", version(2))]).applied == 1
    keys = CacheKeys(prefix)
    assert dump(client, prefix) == {keys.tombstone("g1"): version(2)}
    ttl_ms = client.pttl(keys.tombstone("g1"))
    assert 7 * 24 * 3600 * 1000 - 60_000 < ttl_ms <= 7 * 24 * 3600 * 1000
    # An older replayed upsert cannot resurrect it; a newer one can.
    assert writer.apply([upsert("g1", version(1)), Delete("g1", version(2))]).stale == 2
    assert writer.apply([upsert("g1", version(3), source_ids=["erp:1"])]).applied == 1
    assert not client.exists(keys.tombstone("g1"))
    assert client.get(keys.source_index("erp:1")) == "g1"
    assert violations(client, prefix) == []


def test_a_delete_first_still_guards_against_older_upserts(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    writer.apply([Delete("g1", version(5)), upsert("g1", version(3))])
    assert dump(client, prefix) == {CacheKeys(prefix).tombstone("g1"): version(5)}


def test_tombstone_ttl_is_configurable_and_zero_keeps_it(
    client: redis.Redis, prefix: str
) -> None:
    keys = CacheKeys(prefix)
    short = GoldenCacheWriter(client, prefix, tombstone_ttl=30.0)
    short.apply([Delete("g1", version(1))])
    assert 29_000 < client.pttl(keys.tombstone("g1")) <= 30_000
    forever = GoldenCacheWriter(client, prefix, tombstone_ttl=0)
    forever.apply([Delete("g2", version(1))])
    assert client.pttl(keys.tombstone("g2")) == -1


def test_a_shared_email_maps_to_the_set_of_records(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    writer.apply(
        [
            upsert("g1", version(1), email_hashes=[email(1)]),
            upsert("g2", version(2), email_hashes=[email(1), email(2)]),
        ]
    )
    key = CacheKeys(prefix).email_index(email(1))
    assert client.smembers(key) == {"g1", "g2"}
    assert [r.golden_id for r in reader.by_email("person1@example.com")] == ["g1", "g2"]
    writer.apply([Delete("g1", version(3))])
    assert client.smembers(key) == {"g2"}


def test_a_source_id_goes_to_the_newer_claim(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str
) -> None:
    key = CacheKeys(prefix).source_index("erp:9")
    writer.apply([upsert("g1", version(1), source_ids=["erp:9"])])
    writer.apply([upsert("g2", version(2), source_ids=["erp:9"])])
    assert client.get(key) == "g2"
    # A late, older claim does not take it from a newer owner that lists it.
    writer.apply([upsert("g3", version(1), source_ids=["erp:9"])])
    assert client.get(key) == "g2"
    # A newer claim does.
    writer.apply([upsert("g1", version(3), source_ids=["erp:9"])])
    assert client.get(key) == "g1"
    # The loser dropping it later leaves the owner's entry alone.
    writer.apply([upsert("g2", version(4), source_ids=[])])
    assert client.get(key) == "g1"
    assert violations(client, prefix) == []


def test_the_script_is_loaded_again_after_noscript(
    writer: GoldenCacheWriter, client: redis.Redis
) -> None:
    client.script_flush()
    assert (
        writer.apply([upsert("g1", version(1)), upsert("g2", version(1))]).applied == 2
    )
    client.script_flush()
    result = writer.apply([upsert("g1", version(2)), upsert("g1", version(0))])
    assert result == ApplyResult(applied=1, stale=1)


def test_a_batch_is_one_round_trip(
    writer: GoldenCacheWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer.load_script()
    calls: list[int] = []
    original = redis.client.Pipeline.execute

    def counting(self: Any, raise_on_error: bool = True) -> Any:
        calls.append(len(self.command_stack))
        return original(self, raise_on_error)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counting)
    updates = [upsert(f"g{i}", version(1), source_ids=[f"erp:{i}"]) for i in range(500)]
    assert writer.apply(updates).applied == 500
    assert calls == [5]  # one round trip: 5 script calls of 100 changes


def test_changes_per_call_only_changes_the_chunking(
    client: redis.Redis, prefix: str
) -> None:
    one_each = GoldenCacheWriter(client, prefix, changes_per_call=1)
    updates = [upsert("g1", version(v)) for v in (3, 1, 2, 4, 4)]
    assert one_each.encode(updates)[0][0] == CacheKeys(prefix).golden("g1")
    assert len(one_each.encode(updates)) == 5
    assert one_each.apply(updates) == ApplyResult(applied=2, stale=3)


def test_records_and_maps_keep_their_exact_json(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    record = {"name": 'Zoë "Quotes" \\ back', "big": 2**62 + 1, "ctl": "a\u0000b"}
    invoices = {f"INV-{i}": {"amount": f"{i}.00"} for i in range(2500)}
    writer.apply([Upsert("g1", version(1), record, open_invoices=invoices)])
    stored = client.hget(CacheKeys(prefix).golden("g1"), "record")
    assert stored == orjson.dumps(record).decode()
    found = reader.by_golden_id("g1")
    assert found is not None
    assert (found.record, found.open_invoices) == (record, invoices)


def test_a_failing_change_names_its_golden_id(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    client.set(CacheKeys(prefix).golden("g1"), "written by someone else")
    with pytest.raises(CacheDataError, match=r"WRONGTYPE.*\(golden id g1\)"):
        writer.apply([upsert("g0", version(1)), upsert("g1", version(1))])
    assert reader.by_golden_id("g0") is not None  # changes before it stay


def test_unknown_change_types_are_refused(writer: GoldenCacheWriter) -> None:
    with pytest.raises(TypeError, match="Upsert, Delete or Merge"):
        writer.apply(["not a change"])  # type: ignore[list-item]


def test_script_and_python_build_the_same_keys(
    client: redis.Redis, prefix: str
) -> None:
    writer = GoldenCacheWriter(client, prefix, retrier=Retrier(max_wait=0))
    writer.apply(
        [
            upsert("a", version(1), source_ids=["erp:1"], email_hashes=[email(1)]),
            upsert("b", version(1), open_invoices={"i": 1}, entitlements={"e": 1}),
            Merge("b", ["a"], version(2)),
            Delete("c", version(1)),
        ]
    )
    keys = CacheKeys(prefix)
    expected = {
        keys.golden("b"),
        keys.source_index("erp:1"),
        keys.email_index(email(1)),
        keys.redirect("a"),
        keys.tombstone("c"),
    }
    assert set(dump(client, prefix)) == expected


def test_a_writer_from_settings_uses_them(cache_settings: Settings) -> None:
    prefix = new_prefix()
    redis_part = cache_settings.redis.model_copy(
        update={"retry_max_wait": 12.0, "tombstone_ttl": 60.0}
    )
    settings = cache_settings.model_copy(
        update={"cache_prefix": prefix, "redis": redis_part}
    )
    writer = GoldenCacheWriter.from_settings(settings)
    try:
        assert writer.retrier.max_wait == 12.0
        writer.apply([Delete("g1", version(1))])
        client = build_client(settings.redis)
        assert 59_000 < client.pttl(CacheKeys(prefix).tombstone("g1")) <= 60_000
        client.close()
    finally:
        writer.close()
