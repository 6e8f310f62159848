"""The key layout and the validation of cache changes (no Redis needed)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from lifeline.cache import CacheKeys, Delete, Merge, Upsert, email_hash
from lifeline.cache.keys import is_email_hash, is_golden_id, is_source_id
from lifeline.errors import RecordError

H = hashlib.sha256(b"ada@example.com").hexdigest()


def test_every_key_of_the_documented_layout() -> None:
    keys = CacheKeys("ll")
    assert keys.golden("g-1") == "ll:golden:g-1"
    assert keys.source_index("erp:C-1042") == "ll:idx:src:erp:C-1042"
    assert keys.email_index(H) == f"ll:idx:email:{H}"
    assert keys.tombstone("g-1") == "ll:tomb:g-1"
    assert keys.redirect("g-1") == "ll:merged:g-1"
    assert CacheKeys().golden("x") == "ll:golden:x"
    assert CacheKeys("acme").golden("x") == "acme:golden:x"


def test_email_hash_trims_and_lower_cases() -> None:
    assert email_hash("  Ada@Example.COM \n") == H
    assert is_email_hash(H)
    assert not is_email_hash(H.upper())
    assert not is_email_hash(H[:-1])


@pytest.mark.parametrize("text", ["g-1", "0b7f3c9e-uuid", "G_1.2"])
def test_golden_ids_accepted(text: str) -> None:
    assert is_golden_id(text)


@pytest.mark.parametrize("text", ["", "a:b", "a b", "x:invoices"])
def test_golden_ids_refused(text: str) -> None:
    assert not is_golden_id(text)


@pytest.mark.parametrize("text", ["erp:C-1042", "identity:u-77", "crm:a:b", "hub:x@y"])
def test_source_ids_accepted(text: str) -> None:
    assert is_source_id(text)


@pytest.mark.parametrize("text", ["", "erp", "erp:", ":C-1", " :x", "e rp:1"])
def test_source_ids_refused(text: str) -> None:
    assert not is_source_id(text)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Upsert("a:b", "v1", {}), "golden id"),
        (lambda: Upsert("g", "", {}), "version"),
        (lambda: Upsert("g", "v1", {}, source_ids=["C-1"]), "source ids"),
        (lambda: Upsert("g", "v1", {}, source_ids="erp:C-1"), "sequences"),
        (lambda: Upsert("g", "v1", {}, email_hashes=["ada@example.com"]), "email"),
        (lambda: Upsert("g", "v1", {}, stage=""), "stage"),
        (lambda: Delete("", "v1"), "golden id"),
        (lambda: Merge("g", ["a:b"], "v1"), "absorbed"),
        (lambda: Merge("g", "abc", "v1"), "absorbed"),
    ],
)
def test_malformed_changes_are_record_errors(build: Any, field: str) -> None:
    with pytest.raises(RecordError) as caught:
        build()
    assert caught.value.kind == "invalid_cache_update"
    assert field in caught.value.reason
    assert "ada@" not in caught.value.reason  # names the field, not the value


def test_well_formed_changes_build() -> None:
    Upsert("g", "v1", {"a": 1}, ["erp:1"], [H], "customer", {}, {"x": True})
    Delete("g", "v1")
    Merge("g", ["h", "i"], "v1")
