"""Which connector re-snapshots a table, the signal it gets, and the side tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY

from lifeline.capture.catalog import captured_tables
from lifeline.capture.notifications import snapshot_progress
from lifeline.capture.signals import (
    PgSideState,
    mysql_signal_table,
    mysql_statements,
    postgres_heartbeat_table,
    postgres_signal_table,
    postgres_statements,
)
from lifeline.capture.slots import SlotLag, export_slot_lag, over_threshold
from lifeline.capture.slots_command import render_slots
from lifeline.capture.snapshot import resolve_table, snapshot_signal
from lifeline.capture.templates import ConnectorTemplate, load_templates, render
from lifeline.errors import FatalError
from lifeline.preflight.scope import postgres_scope
from lifeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ERP, IDENTITY = "lifeline-erp", "lifeline-identity"


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def templates() -> list[ConnectorTemplate]:
    return load_templates(ROOT / "connectors")


def _write(folder: Path, name: str, config: dict[str, str]) -> None:
    body = {"name": name, "config": config}
    (folder / f"{name}.json").write_bytes(orjson.dumps(body))


def _pg(tables: str, **extra: str) -> dict[str, str]:
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "topic.prefix": extra.pop("prefix", "ident"),
        "table.include.list": tables,
        "database.user": "cdc",
        **extra,
    }


@pytest.mark.parametrize(
    ("name", "connector", "collection", "topic"),
    [
        ("customers", ERP, "erp.customers", "erp.erp.customers"),
        ("erp.invoices", ERP, "erp.invoices", "erp.erp.invoices"),
        ("erp.erp.payments", ERP, "erp.payments", "erp.erp.payments"),
        ("users", IDENTITY, "public.users", "identity.public.users"),
        ("PUBLIC.Users", IDENTITY, "public.users", "identity.public.users"),
        ("identity.public.external_ids", IDENTITY, "public.external_ids", None),
    ],
)
def test_a_captured_table_resolves_to_its_connector(
    settings: Settings,
    templates: list[ConnectorTemplate],
    name: str,
    connector: str,
    collection: str,
    topic: str | None,
) -> None:
    target = resolve_table(name, settings, templates)

    assert target.connector == connector
    assert target.data_collection == collection
    if topic is not None:
        assert target.topic == topic


def test_targets_carry_the_signal_table_publication_and_account(
    settings: Settings, templates: list[ConnectorTemplate]
) -> None:
    erp = resolve_table("customers", settings, templates)
    identity = resolve_table("users", settings, templates, IDENTITY)

    assert (erp.kind, erp.signal_table, erp.publication) == (
        "mysql",
        "erp.lifeline_signal",
        None,
    )
    assert erp.user == settings.mariadb.cdc_user
    assert (identity.kind, identity.signal_table, identity.publication) == (
        "postgres",
        "public.lifeline_signal",
        "lifeline_identity",
    )


def test_an_uncaptured_table_is_refused_with_what_is_captured(
    settings: Settings, templates: list[ConnectorTemplate]
) -> None:
    with pytest.raises(FatalError) as caught:
        resolve_table("erp.suppliers", settings, templates)

    text = str(caught.value)
    assert "table erp.suppliers is not captured" in text
    assert "lifeline-erp: erp.customers" in text
    assert "public.users" in text
    assert "table.include.list" in text


def test_the_wrong_connector_names_the_right_one(
    settings: Settings, templates: list[ConnectorTemplate]
) -> None:
    with pytest.raises(FatalError, match="not captured by lifeline-erp, but by lif"):
        resolve_table("users", settings, templates, connector=ERP)
    with pytest.raises(FatalError, match="no connector template named nope"):
        resolve_table("users", settings, templates, connector="nope")


def test_signal_tables_are_not_snapshotted(
    settings: Settings, templates: list[ConnectorTemplate]
) -> None:
    for name in ("lifeline_signal", "erp.lifeline_signal", "public.lifeline_signal"):
        with pytest.raises(FatalError, match="is a signal table"):
            resolve_table(name, settings, templates)


def test_a_name_two_connectors_capture_must_be_qualified(
    settings: Settings, tmp_path: Path
) -> None:
    _write(tmp_path, "a", _pg("sales.users", **{"signal.data.collection": "s.sig"}))
    b = _pg("crm.users", prefix="crm", **{"signal.data.collection": "s.sig"})
    _write(tmp_path, "b", b)
    templates = load_templates(tmp_path)

    with pytest.raises(FatalError, match="captured more than once"):
        resolve_table("users", settings, templates)
    assert resolve_table("crm.users", settings, templates).connector == "b"
    assert resolve_table("users", settings, templates, "a").namespace == "sales"


def test_regex_include_entries_match_qualified_names(
    settings: Settings, tmp_path: Path
) -> None:
    config = _pg(r"sales\.order_.*", **{"signal.data.collection": "s.sig"})
    _write(tmp_path, "a", config)
    templates = load_templates(tmp_path)

    target = resolve_table("sales.order_lines", settings, templates)

    assert target.data_collection == "sales.order_lines"
    with pytest.raises(FatalError, match="not captured"):
        resolve_table("sales.orders", settings, templates)


def test_a_connector_without_a_signal_table_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    _write(tmp_path, "a", _pg("sales.users"))

    with pytest.raises(FatalError, match=r"has no signal\.data\.collection"):
        resolve_table("users", settings, load_templates(tmp_path))


def test_a_mysql_signal_table_must_be_in_a_captured_database(
    settings: Settings, tmp_path: Path
) -> None:
    config = {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "topic.prefix": "shop",
        "table.include.list": "shop.orders",
        "signal.data.collection": "ops.signal",
    }
    _write(tmp_path, "a", config)

    with pytest.raises(FatalError, match="must be in a captured database"):
        resolve_table("orders", settings, load_templates(tmp_path))


def test_the_signal_asks_for_an_incremental_snapshot(
    settings: Settings, templates: list[ConnectorTemplate]
) -> None:
    target = resolve_table("users", settings, templates)

    plain = snapshot_signal(target, signal_id="s-1")
    filtered = snapshot_signal(target, "  email LIKE '%@example.com' ")

    assert (plain.id, plain.type) == ("s-1", "execute-snapshot")
    assert orjson.loads(plain.data) == {
        "type": "incremental",
        "data-collections": ["public.users"],
    }
    assert orjson.loads(filtered.data)["additional-conditions"] == [
        {"data-collection": "public.users", "filter": "email LIKE '%@example.com'"}
    ]
    assert len(filtered.id) == 36
    with pytest.raises(FatalError, match="--additional-condition is empty"):
        snapshot_signal(target, "  ")


def test_templates_keep_side_tables_out_of_the_captured_topics(
    settings: Settings, templates: list[ConnectorTemplate]
) -> None:
    topics = {table.topic for table in captured_tables(settings, templates)}
    configs = {t.name: render(t, settings) for t in templates}

    assert not any("lifeline_signal" in t or "heartbeat" in t for t in topics)
    assert {"erp.erp.customers", "identity.public.users"} <= topics
    for config in configs.values():
        assert int(config["heartbeat.interval.ms"]) > 0
        assert int(config["incremental.snapshot.chunk.size"]) > 0
        assert config["notification.sink.topic.name"] == settings.topics.notifications
    identity = configs[IDENTITY]
    assert identity["signal.data.collection"] == "public.lifeline_signal"
    assert identity["heartbeat.action.query"].startswith(
        "INSERT INTO public.lifeline_heartbeat (id, beat_at)"
    )
    assert configs[ERP]["signal.data.collection"] == "erp.lifeline_signal"


def test_preflight_scope_reads_the_side_tables(settings: Settings) -> None:
    scope = postgres_scope(settings)

    assert scope.signal_table == "public.lifeline_signal"
    assert scope.heartbeat_table == "public.lifeline_heartbeat"


def test_postgres_side_table_sql_gives_only_what_is_missing() -> None:
    signal = postgres_signal_table("public.lifeline_signal")
    heartbeat = postgres_heartbeat_table("ops.beat")
    absent = PgSideState(exists=False, missing_privileges=(), in_publication=False)
    no_insert = PgSideState(True, ("INSERT",), in_publication=True)

    created = postgres_statements(signal, "debezium", "pub", absent)
    granted = postgres_statements(heartbeat, "debezium", "pub", no_insert)
    ready = PgSideState(True, (), True)

    assert created == [
        'CREATE TABLE IF NOT EXISTS "public"."lifeline_signal" (id VARCHAR(64) '
        "PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT);",
        'GRANT SELECT, INSERT, DELETE ON TABLE "public"."lifeline_signal" '
        'TO "debezium";',
        'ALTER PUBLICATION "pub" ADD TABLE "public"."lifeline_signal";',
    ]
    assert granted == ['GRANT INSERT ON TABLE "ops"."beat" TO "debezium";']
    assert postgres_statements(signal, "debezium", "pub", ready) == []
    assert len(postgres_statements(signal, "debezium", None, absent)) == 2


def test_mysql_signal_table_sql_quotes_names() -> None:
    table = mysql_signal_table("erp.lifeline_signal")

    create, grant = mysql_statements(table, "debe'zium", "10.%")

    assert create.startswith("CREATE TABLE IF NOT EXISTS `erp`.`lifeline_signal` (")
    assert grant == (
        "GRANT SELECT, INSERT, DELETE ON `erp`.`lifeline_signal` "
        "TO 'debe''zium'@'10.%';"
    )
    assert mysql_statements(table, "u", create=False) == [
        "GRANT SELECT, INSERT, DELETE ON `erp`.`lifeline_signal` TO 'u'@'%';"
    ]
    with pytest.raises(ValueError, match=r"must be namespace\.table"):
        mysql_signal_table("lifeline_signal")


def _note(kind: str, **data: str) -> dict[str, Any]:
    body = {
        "id": "n",
        "aggregate_type": "Incremental Snapshot",
        "type": kind,
        "additional_data": {"connector_name": "erp", **data},
        "timestamp": 1_700_000_000_000,
    }
    return {"schema": {}, "payload": body}


def test_notifications_fold_into_each_connectors_last_snapshot() -> None:
    initial: dict[str, Any] = {
        "aggregate_type": "Initial Snapshot",
        "type": "COMPLETED",
        "additional_data": {"connector_name": "identity"},
    }
    records = [
        initial,
        _note("STARTED", data_collections="erp.customers"),
        _note(
            "IN_PROGRESS",
            current_collection_in_progress="erp.customers",
            last_processed_key="[1024]",
            maximum_key="[4096]",
        ),
        {"aggregate_type": "Something else", "type": "X"},
    ]

    running = snapshot_progress(records)
    records += [
        _note(
            "TABLE_SCAN_COMPLETED",
            scanned_collection="erp.customers",
            total_rows_scanned="4096",
            status="SUCCEEDED",
        ),
        _note("COMPLETED"),
    ]
    done = snapshot_progress(records)
    failed = snapshot_progress(
        [
            *records,
            _note(
                "STARTED", data_collections="erp.a,erp.b,erp.c,erp.d,erp.e,erp.f,erp.g"
            ),
            _note(
                "TABLE_SCAN_COMPLETED",
                scanned_collection="erp.a",
                status="SQL_EXCEPTION",
            ),
            _note("ABORTED"),
        ]
    )

    assert [(p.system, p.kind, p.state) for p in running] == [
        ("erp", "incremental", "IN_PROGRESS"),
        ("identity", "initial", "COMPLETED"),
    ]
    assert running[0].detail == "erp.customers: key [1024] of [4096]"
    assert not running[0].done
    assert done[0].state == "COMPLETED" and done[0].done
    assert done[0].collections == "erp.customers"
    assert done[0].detail == "1 table read, 4096 rows"
    assert done[0].at is not None and done[0].at.year == 2023
    assert failed[0].state == "ABORTED" and failed[0].done
    assert (
        failed[0].collections == "erp.a, erp.b, erp.c, erp.d, erp.e, erp.f and 1 more"
    )
    assert failed[0].detail == "1 table read, 0 rows; erp.a SQL_EXCEPTION"


def test_slots_over_the_threshold_are_named() -> None:
    lags = [
        SlotLag("quiet", "pgoutput", "logical", "identity", True, 2048, 0),
        SlotLag("stuck", "pgoutput", "logical", "identity", False, 5 << 20, 5 << 20),
        SlotLag("new", "pgoutput", "logical", "identity", False, None, None),
    ]

    text = render_slots(lags, 1 << 20)

    assert [lag.slot for lag in over_threshold(lags, 1 << 20)] == ["stuck"]
    assert text.splitlines()[-1] == "stuck keeps more than 1.0 MiB of WAL"
    assert "warn  stuck" in text
    assert render_slots(lags[:1], 1 << 20).endswith("less than 1.0 MiB of WAL")


def test_slot_lag_is_exported_as_gauges() -> None:
    def sample(name: str, slot: str | None = None) -> float | None:
        labels = {} if slot is None else {"slot": slot}
        return REGISTRY.get_sample_value(name, labels)

    export_slot_lag(
        [
            SlotLag("a", "pgoutput", "logical", "identity", True, 4096, 10),
            SlotLag("b", "pgoutput", "logical", "identity", False, None, None),
        ],
        1 << 20,
    )
    export_slot_lag(
        [SlotLag("c", "pgoutput", "logical", "identity", True, 100, 0)], 2048
    )

    assert sample("lifeline_replication_slot_warn_bytes") == 2048
    assert sample("lifeline_replication_slot_retained_bytes", "c") == 100
    assert sample("lifeline_replication_slot_unconfirmed_bytes", "c") == 0
    assert sample("lifeline_replication_slot_retained_bytes", "a") is None
