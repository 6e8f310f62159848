"""Incremental snapshots and heartbeats on the real stack.

``lifeline snapshot --table`` makes Debezium send a table's rows again as
``op=r``, ``snapshot=incremental`` reads, while the skeleton and golden flows
run: the caches keep the newest values and later changes still apply. The
PostgreSQL heartbeat moves the slot while only an unrelated table changes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import pytest
import redis
from confluent_kafka import Consumer, TopicPartition

from lifeline.cache import CacheReader, build_client
from lifeline.capture.notifications import SnapshotProgress, read_progress
from lifeline.cli import main
from lifeline.emit.cache_keys import row_key
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    LiveChange,
    mariadb_connection,
    postgres_connection,
    read_rows,
    watch,
)
from lifeline.preflight.scope import postgres_scope
from lifeline.settings import Settings
from tests.e2e.waiting import wait_for as _wait_for

pytestmark = pytest.mark.stack


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _lifeline(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the ``lifeline`` command; its exit code and stdout + stderr."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def _ends(settings: Settings, topic: str) -> list[TopicPartition]:
    """The topic's current end offsets: snapshot reads come after them."""
    consumer = _consumer(settings)
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        ends = []
        for partition in sorted(metadata.topics[topic].partitions):
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10
            )
            ends.append(TopicPartition(topic, partition, high))
        return ends
    finally:
        consumer.close()


def _consumer(settings: Settings) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-snapshot-{uuid.uuid4().hex}",
            "enable.auto.commit": "false",
        }
    )


def _records_after(
    settings: Settings, starts: list[TopicPartition], ids: set[str], timeout: float
) -> dict[str, list[dict[str, Any]]]:
    """Change events (payloads) of rows ``ids`` after ``starts``, by row id.

    Returns once every id has a snapshot read, or at ``timeout``.
    """
    consumer = _consumer(settings)
    consumer.assign(starts)
    found: dict[str, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not _all_read(found, ids):
            for message in consumer.consume(500, 0.5):
                value = message.value()
                if message.error() is not None or not value:
                    continue
                payload = orjson.loads(value)["payload"]
                row = payload.get("after") or payload.get("before") or {}
                if str(row.get("id")) in ids:
                    found.setdefault(str(row["id"]), []).append(payload)
    finally:
        consumer.close()
    return found


def _all_read(found: dict[str, list[dict[str, Any]]], ids: set[str]) -> bool:
    return all(any(p["op"] == "r" for p in found.get(i, [])) for i in ids)


def _cached(settings: Settings, change: LiveChange) -> dict[str, Any] | None:
    client = redis.Redis(**settings.redis.client_kwargs())
    try:
        key = row_key(settings.cache_prefix, change.system, change.table, change.row_id)
        return read_rows(client, [key])[0]
    finally:
        client.close()


def _assert_snapshot_reads(
    found: dict[str, list[dict[str, Any]]], ids: set[str]
) -> None:
    for row_id in ids:
        reads = [p for p in found.get(row_id, []) if p["op"] == "r"]
        assert reads, f"row {row_id} was not sent again"
        assert {p["source"]["snapshot"] for p in reads} == {"incremental"}


def test_erp_table_resnapshot_keeps_the_newest_values(
    stack_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, tag = stack_settings, _tag()
    reader = CacheReader(build_client(settings.redis), settings.cache_prefix)
    with mariadb_connection(settings) as conn:
        erp = ErpChanges(settings, conn)
        first = erp.insert(f"C-{tag}", f"Snap {tag} GmbH", f"snap.{tag}@example.com")
        second = erp.insert(f"D-{tag}", f"Other {tag} AG", f"other.{tag}@example.com")
        with conn.cursor() as cursor:
            cursor.execute(
                "UPDATE customers SET legal_name = %s WHERE id = %s",
                (f"Snap {tag} SE", first.row_id),
            )
        newest = erp.update_credit(first.row_id, Decimal("777.70"))
        watch(settings, [second, newest])
        golden = _wait_for(
            lambda: reader.by_source_id(f"erp:C-{tag}"),
            lambda r: r is not None and r.record.get("legal_name") == f"Snap {tag} SE",
        )
        assert golden is not None, "the golden record never showed the update"
        before = _cached(settings, newest)
        assert before is not None
        starts = _ends(settings, "erp.erp.customers")

        code, output = _lifeline(capsys, "snapshot", "--table", "customers")

        assert code == 0, output
        assert "lifeline-erp: incremental snapshot of erp.customers" in output
        ids = {first.row_id, second.row_id}
        _assert_snapshot_reads(_records_after(settings, starts, ids, 120), ids)
        # Give the flows the reads, then check nothing went backwards.
        watch(settings, [erp.update_credit(second.row_id, Decimal("12.50"))])
        after = _cached(settings, newest)
        assert after is not None
        assert after["row"]["credit_limit"] == "777.70"
        assert after["row"]["legal_name"] == f"Snap {tag} SE"
        assert after["position"] >= before["position"]
        record = reader.by_source_id(f"erp:C-{tag}")
        assert record is not None and record.golden_id == golden.golden_id
        assert record.record["legal_name"] == f"Snap {tag} SE"
        assert record.version >= golden.version
        # A change after the re-snapshot still wins over the snapshot read.
        (later,) = watch(settings, [erp.update_credit(first.row_id, Decimal("9.99"))])
        assert later.cached is not None, "a change after the snapshot was lost"


def test_identity_table_resnapshot_and_its_status(
    stack_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, tag = stack_settings, _tag()
    reader = CacheReader(build_client(settings.redis), settings.cache_prefix)
    with postgres_connection(settings) as conn:
        identity = IdentityChanges(settings, conn)
        identity.insert(f"u-{tag}", f"snap.{tag}@example.org", "Sina", "Snap")
        newest = identity.rename(f"u-{tag}", "Sinaida")
        watch(settings, [newest])
        golden = _wait_for(
            lambda: reader.by_source_id(f"identity:u-{tag}"),
            lambda r: r is not None and r.record.get("given_name") == "Sinaida",
        )
        assert golden is not None
        starts = _ends(settings, "identity.public.users")
        client = build_client(settings.redis)
        key = row_key(settings.cache_prefix, "identity", "users", f"u-{tag}")
        client.delete(key)  # an entry lost from the cache: the snapshot repairs it

        code, output = _lifeline(capsys, "snapshot", "--table", "public.users")

        assert code == 0, output
        assert "lifeline-identity: incremental snapshot of public.users" in output
        ids = {f"u-{tag}"}
        _assert_snapshot_reads(_records_after(settings, starts, ids, 120), ids)
        deadline = time.monotonic() + 30
        while not client.exists(key) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.exists(key), "the snapshot read did not reach the row cache"
        (later,) = watch(settings, [identity.set_phone(f"u-{tag}", "+49 30 1234")])
        assert later.cached is not None
        assert later.cached["row"]["given_name"] == "Sinaida"
        record = reader.by_source_id(f"identity:u-{tag}")
        assert record is not None and record.record["given_name"] == "Sinaida"

    progress = _completed(settings, "identity")
    code, output = _lifeline(capsys, "snapshot", "--status")
    assert code == 0, output
    assert "public.users" in progress.collections
    rows = [line.split() for line in output.splitlines()]
    assert ["identity", "incremental", "COMPLETED"] in [row[:3] for row in rows]


def _completed(settings: Settings, system: str) -> SnapshotProgress:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for progress in read_progress(settings):
            ours = progress.system == system and progress.kind == "incremental"
            if ours and progress.done:
                return progress
        time.sleep(1)
    raise AssertionError(f"{system}: no completed incremental snapshot reported")


def test_unknown_table_is_refused_with_a_clear_error(
    stack_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _lifeline(capsys, "snapshot", "--table", "erp.suppliers")

    assert code == 2
    assert "table erp.suppliers is not captured" in output


@pytest.fixture
def scratch_signal_tables(
    stack_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """Signal table names no connector reads, dropped afterwards."""
    tag = _tag()
    pg_table, my_table = f"lifeline_signal_{tag}", f"lifeline_signal_{tag}"
    monkeypatch.setenv("LIFELINE_POSTGRES__SIGNAL_TABLE", f"public.{pg_table}")
    monkeypatch.setenv("LIFELINE_MARIADB__SIGNAL_TABLE", my_table)
    yield pg_table, my_table
    with psycopg.connect(stack_settings.postgres.dsn(), autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_publication_tables WHERE pubname = %s AND tablename = %s",
            ("lifeline_identity", pg_table),
        ).fetchone()
        if found:
            conn.execute(f"ALTER PUBLICATION lifeline_identity DROP TABLE {pg_table}")
        conn.execute(f"DROP TABLE IF EXISTS {pg_table}")
    with mariadb_connection(stack_settings) as my, my.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {my_table}")


def test_missing_signal_table_is_created_only_when_asked(
    stack_settings: Settings,
    capsys: pytest.CaptureFixture[str],
    scratch_signal_tables: tuple[str, str],
) -> None:
    pg_table, my_table = scratch_signal_tables
    for table, name in (("users", pg_table), ("customers", my_table)):
        code, output = _lifeline(capsys, "snapshot", "--table", table)

        assert code == 2, output
        assert "is not ready; run as an admin:" in output
        assert "CREATE TABLE IF NOT EXISTS" in output and name in output
        assert "--create-signal-table" in output

        code, output = _lifeline(
            capsys, "snapshot", "--table", table, "--create-signal-table"
        )

        assert code == 0, output
        assert output.index("CREATE TABLE") < output.index("incremental snapshot of")

    with psycopg.connect(stack_settings.postgres.dsn()) as conn:
        signals = conn.execute(f"SELECT type, data FROM {pg_table}").fetchall()
        published = conn.execute(
            "SELECT 1 FROM pg_publication_tables WHERE pubname = %s AND tablename = %s",
            ("lifeline_identity", pg_table),
        ).fetchall()
        writable = conn.execute(
            "SELECT has_table_privilege(%s, %s, 'INSERT')",
            (stack_settings.postgres.cdc_user, f"public.{pg_table}"),
        ).fetchone()
    assert [
        (kind, orjson.loads(data)["data-collections"]) for kind, data in signals
    ] == [("execute-snapshot", ["public.users"])]
    assert published and writable == (True,)
    with mariadb_connection(stack_settings) as my, my.cursor() as cursor:
        cursor.execute(f"SELECT type, data FROM {my_table}")
        rows = cursor.fetchall()
    assert [(kind, orjson.loads(data)["data-collections"]) for kind, data in rows] == [
        ("execute-snapshot", ["erp.customers"])
    ]


def _flushed(conn: psycopg.Connection[Any], slot: str) -> str:
    row = conn.execute(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots"
        " WHERE slot_name = %s",
        (slot,),
    ).fetchone()
    assert row is not None, f"no slot {slot}"
    return str(row[0])


def test_heartbeat_moves_the_slot_while_only_unrelated_tables_change(
    stack_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    table = f"lifeline_unrelated_{_tag()}"
    slot = postgres_scope(stack_settings).slot  # the identity connector's
    with psycopg.connect(stack_settings.postgres.dsn(), autocommit=True) as conn:
        try:
            conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, note text)")
            conn.execute(
                f"INSERT INTO {table} (note) "
                "SELECT repeat(md5(g::text), 8) FROM generate_series(1, 5000) g"
            )
            target = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
            assert target is not None
            deadline = time.monotonic() + 120
            flushed = _flushed(conn, slot)
            while time.monotonic() < deadline and not _at_or_after(
                conn, flushed, target[0]
            ):
                time.sleep(1)
                flushed = _flushed(conn, slot)
            beat = conn.execute(
                "SELECT beat_at FROM public.lifeline_heartbeat WHERE id = 1"
            ).fetchone()
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}")

    assert _at_or_after_text(flushed, target[0]), (flushed, target[0])
    assert beat is not None, "the heartbeat query never wrote its row"
    code, output = _lifeline(capsys, "slots")
    assert code == 0, output
    assert slot in output
    code, output = _lifeline(capsys, "slots", "--warn-bytes", "1")
    assert code == 1
    assert slot in output.splitlines()[-1]


def _at_or_after(conn: psycopg.Connection[Any], lsn: str, target: str) -> bool:
    row = conn.execute(
        "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn) >= 0", (lsn, target)
    ).fetchone()
    return bool(row and row[0])


def _at_or_after_text(lsn: str, target: str) -> bool:
    def value(text: str) -> int:
        high, low = text.split("/")
        return (int(high, 16) << 32) + int(low, 16)

    return value(lsn) >= value(target)
