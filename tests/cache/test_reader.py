"""Looking records up by golden id, source id and email."""

from __future__ import annotations

import orjson
import pytest
import redis

from lifeline.cache import (
    CacheDataError,
    CacheKeys,
    CacheReader,
    GoldenCacheWriter,
    Merge,
)
from lifeline.settings import Settings
from tests.cache.helpers import email, upsert, version


@pytest.fixture
def filled(writer: GoldenCacheWriter) -> GoldenCacheWriter:
    writer.apply(
        [
            upsert(
                "g1",
                version(1),
                source_ids=["erp:C-1042", "identity:u-77"],
                email_hashes=[email(1)],
                stage="customer",
            ),
            upsert("g2", version(1), source_ids=["crm:a:b"], email_hashes=[email(1)]),
        ]
    )
    return writer


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("g1", ["g1"]),
        ("erp:C-1042", ["g1"]),
        ("identity:u-77", ["g1"]),
        ("crm:a:b", ["g2"]),
        ("person1@example.com", ["g1", "g2"]),
        ("  PERSON1@Example.com ", ["g1", "g2"]),
        ("g9", []),
        ("erp:C-9", []),
        ("nobody@example.com", []),
        ("", []),
        ("erp:", []),
    ],
)
def test_lookup_detects_the_kind_of_key(
    reader: CacheReader, text: str, expected: list[str]
) -> None:
    assert [found.golden_id for found in reader.lookup(text)] == expected


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(
    "text",
    ["g1", "g2", "erp:C-1042", "crm:a:b", "person1@example.com", "g9", "erp:C-9"],
)
def test_reading_by_steps_finds_what_the_script_finds(
    client: redis.Redis, prefix: str, reader: CacheReader, text: str
) -> None:
    by_steps = CacheReader(client, prefix)
    by_steps.scripted = False
    assert by_steps.lookup(text) == reader.lookup(text)


def test_the_script_follows_redirects_and_reports_the_chain(
    writer: GoldenCacheWriter, client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    writer.apply(
        [
            upsert("g1", version(1), source_ids=["erp:1"]),
            upsert("g2", version(1), source_ids=["erp:2"]),
            Merge("g2", ["g1"], version(2)),
        ]
    )
    client.delete(CacheKeys(prefix).redirect("g1"))
    client.set(CacheKeys(prefix).redirect("g1"), orjson.dumps({"survivor": "g2"}))
    found = reader.by_golden_id("g1")
    assert found is not None
    assert (found.golden_id, found.merged_from) == ("g2", ("g1",))
    client.set(CacheKeys(prefix).redirect("g2"), orjson.dumps({"survivor": "g1"}))
    client.delete(CacheKeys(prefix).golden("g2"))
    assert reader.by_golden_id("g1") is None  # a loop ends, found nothing


@pytest.mark.usefixtures("filled")
def test_each_lookup_method(reader: CacheReader) -> None:
    by_id = reader.by_golden_id("g1")
    assert by_id is not None
    assert reader.by_source_id("erp:C-1042") == by_id
    assert reader.by_email("person1@example.com")[0] == by_id
    assert reader.by_golden_id("bad:id") is None
    assert reader.by_source_id("no-colon") is None


@pytest.mark.usefixtures("filled")
def test_records_turn_into_json(reader: CacheReader) -> None:
    found = reader.by_golden_id("g1")
    assert found is not None
    as_json = orjson.loads(orjson.dumps(found.to_json()))
    assert as_json["golden_id"] == "g1"
    assert as_json["stage"] == "customer"
    assert as_json["source_ids"] == ["erp:C-1042", "identity:u-77"]
    assert as_json["updated_at"].endswith("+00:00")
    assert as_json["record"] == {"name": "customer g1", "at": version(1)}


@pytest.mark.usefixtures("filled")
def test_a_client_without_decoded_responses_reads_the_same(
    cache_settings: Settings, prefix: str, reader: CacheReader
) -> None:
    raw = redis.Redis(**cache_settings.redis.client_kwargs())
    try:
        assert CacheReader(raw, prefix).lookup("person1@example.com") == reader.lookup(
            "person1@example.com"
        )
    finally:
        raw.close()


def test_a_malformed_entry_is_a_data_error(
    client: redis.Redis, prefix: str, reader: CacheReader
) -> None:
    client.hset(CacheKeys(prefix).golden("g1"), mapping={"record": "{}"})
    with pytest.raises(CacheDataError, match="golden id g1"):
        reader.by_golden_id("g1")
