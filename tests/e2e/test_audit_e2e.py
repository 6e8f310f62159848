"""``lifeline audit`` on the real stack: lineage of records built by the flow."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from lifeline.audit.entry import AuditEntry, AuditKind, derive_audit_id, encode_entry
from lifeline.audit.reader import AuditReader
from lifeline.cache import CacheReader, GoldenRecord, build_client
from lifeline.cli import main
from lifeline.emit.audit_sink import AuditSink
from lifeline.events.avro import EventCodec
from lifeline.golden.step import GoldenOutput
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    mariadb_connection,
    postgres_connection,
)
from lifeline.settings import Settings
from tests.e2e.waiting import wait_for as _wait_for

pytestmark = pytest.mark.stack

CaptureFixture = pytest.CaptureFixture[str]


def _wait_for_source(reader: CacheReader, ref: str) -> GoldenRecord | None:
    return _wait_for(lambda: reader.by_source_id(ref), lambda r: r is not None)


def _audit(capsys: CaptureFixture, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "--idle-timeout", "1", *args])
    return code, capsys.readouterr().out


def _audit_until(
    capsys: CaptureFixture, key: str, done: Callable[[str], bool]
) -> tuple[int, str]:
    """Run the command until its output satisfies ``done`` (the sink may lag)."""
    deadline = time.monotonic() + 30
    code, out = _audit(capsys, key)
    while not done(out) and time.monotonic() < deadline:
        code, out = _audit(capsys, key)
    return code, out


def _lineage_positions(settings: Settings, golden_id: str) -> dict[str, set[str]]:
    """Positions of the lifecycle events' lineage, by ``system:row_id``."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
        }
    )
    topic = settings.topics.lifecycle
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    codec, found = EventCodec(), dict[str, set[str]]()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in consumer.consume(500, 0.5):
            if message.error() is None and message.key() == golden_id.encode():
                for line in codec.decode(message.value() or b"").lineage:
                    ref = f"{line.system}:{line.row_id}"
                    found.setdefault(ref, set()).add(line.position)
    consumer.close()
    return found


def test_audit_prints_both_source_rows_positions_and_match_keys(
    stack_settings: Settings, capsys: CaptureFixture
) -> None:
    tag = uuid.uuid4().hex[:10]
    email = f"audit.{tag}@example.com"
    erp_ref, user_ref = f"erp:C-{tag}", f"identity:u-{tag}"
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        ErpChanges(stack_settings, my).insert(f"C-{tag}", "Ada Audit", email)
        IdentityChanges(stack_settings, pg).insert(f"u-{tag}", email, "Ada", "Audit")
        record = _wait_for(
            lambda: reader.by_source_id(erp_ref),
            lambda r: r is not None and set(r.source_ids) == {erp_ref, user_ref},
        )
    assert record is not None, "the two rows never became one golden record"

    code, text = _audit_until(
        capsys, user_ref, lambda out: f"identity.users u-{tag}" in out
    )
    assert code == 0
    assert f"audit trail of golden record {record.golden_id}" in text
    assert f"erp.customers C-{tag} at m:" in text
    assert f"identity.users u-{tag} at p:" in text
    positions = _lineage_positions(stack_settings, record.golden_id)
    assert set(positions) == {erp_ref, user_ref}
    for ref_positions in positions.values():
        assert all(f"at {position} " in text for position in ref_positions)

    code, lines = _audit(capsys, "--json", record.golden_id)
    assert code == 0
    entries = [orjson.loads(line) for line in lines.splitlines()]
    assert entries[0]["kind"] == "created"
    links = [m for e in entries for m in e["matches"] if m["matched_with"]]
    assert links, f"no match decision links the two records: {entries}"
    (link,) = links
    assert {link["ref"], link["matched_with"]} == {erp_ref, user_ref}
    assert link["matched_keys"], "the link names no matched keys"
    keys = ", ".join(link["matched_keys"])
    assert f"by {link['rule']} on {keys} with {link['matched_with']}" in text
    owners = {f["field"]: f["system"] for e in entries for f in e["fields"]}
    assert (owners["legal_name"], owners["given_name"]) == ("erp", "identity")
    assert "Ada" not in lines and email not in lines


def test_audit_of_an_absorbed_id_prints_the_survivors_lineage(
    stack_settings: Settings, capsys: CaptureFixture
) -> None:
    tag = uuid.uuid4().hex[:10]
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    erp_ref, user_ref = f"erp:C-{tag}", f"identity:u-{tag}"
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        ErpChanges(stack_settings, my).insert(
            f"C-{tag}", f"Trail {tag} Ltd", f"billing.{tag}@example.com"
        )
        identity = IdentityChanges(stack_settings, pg)
        identity.insert(f"u-{tag}", f"person.{tag}@example.org", "Tim", "Trail")
        apart = [_wait_for_source(reader, ref) for ref in (erp_ref, user_ref)]
        ids = {r.golden_id for r in apart if r is not None}
        assert len(ids) == 2, "the records were never apart"
        identity.link(f"u-{tag}", "erp", f"C-{tag}")
        merged = _wait_for(
            lambda: reader.by_source_id(user_ref),
            lambda r: r is not None and set(r.source_ids) == {erp_ref, user_ref},
        )
    assert merged is not None
    (absorbed,) = ids - {merged.golden_id}

    code, text = _audit_until(capsys, absorbed, lambda out: " retired " in out)
    assert code == 0
    assert text.startswith(f"audit trail of golden record {merged.golden_id}")
    assert f"merged    {merged.golden_id} absorbed {absorbed}" in text
    assert f"retired   {absorbed} merged into {merged.golden_id}" in text
    assert f"created   {absorbed}" in text
    assert f"created   {merged.golden_id}" in text
    assert f"by explicit_link on links with {erp_ref}" in text


def test_the_reader_drops_replayed_entries_and_skips_unreadable_ones(
    stack_settings: Settings, capsys: CaptureFixture
) -> None:
    gid = f"g-test{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    entry = AuditEntry(
        id=derive_audit_id(gid, "r:1", "deleted"),
        golden_id=gid,
        version="r:1",
        kind="deleted",
        committed_at=None,
        recorded_at=now,
    )
    config = {"bootstrap.servers": stack_settings.broker.bootstrap_servers}
    sink = AuditSink(config, stack_settings.topics.audit).build_part("audit", "0", None)
    output = GoldenOutput((), (), audit=(entry,))
    sink.write_batch([output])
    sink.write_batch([output])  # what a replay after a crash writes again
    sink.close()
    producer = Producer(config)
    producer.produce(stack_settings.topics.audit, key=gid.encode(), value=b"{not")
    assert producer.flush(10) == 0

    trail = AuditReader(config, stack_settings.topics.audit, idle_timeout=1).read(gid)
    assert trail.entries == (entry,)
    assert (trail.duplicates, trail.unreadable) == (1, 1)
    assert encode_entry(trail.entries[0]) == encode_entry(entry)

    code, _ = _audit(capsys, f"g-none{uuid.uuid4().hex[:12]}")
    assert code == 1


def _entry(gid: str, version: int, kind: AuditKind, *related: str) -> AuditEntry:
    return AuditEntry(
        id=derive_audit_id(gid, f"r:{version}", kind),
        golden_id=gid,
        version=f"r:{version}",
        kind=kind,
        committed_at=None,
        recorded_at=datetime.now(UTC),
        related=related,
    )


def test_the_reader_follows_a_chain_of_merges_from_any_id_in_it(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:12]
    a, b, c = (f"g-{name}{tag}" for name in "abc")
    written = [
        _entry(a, 1, "created"),
        _entry(b, 2, "created"),
        _entry(c, 3, "created"),
        _entry(b, 4, "merged", a),
        _entry(a, 4, "retired", b),
        _entry(c, 5, "merged", b),
        _entry(b, 5, "retired", c),
    ]
    config = {"bootstrap.servers": stack_settings.broker.bootstrap_servers}
    sink = AuditSink(config, stack_settings.topics.audit).build_part("audit", "0", None)
    sink.write_batch([GoldenOutput((), (), audit=tuple(written))])
    sink.close()
    reader = AuditReader(config, stack_settings.topics.audit, idle_timeout=1)
    for start in (a, b, c):
        trail = reader.read(start)  # no hint from the cache: pass after pass
        assert trail.survivor == c
        assert trail.golden_ids == tuple(sorted((a, b, c)))
        assert [(e.golden_id, e.kind) for e in trail.entries] == [
            (a, "created"),
            (b, "created"),
            (c, "created"),
            (b, "merged"),
            (a, "retired"),
            (c, "merged"),
            (b, "retired"),
        ]
