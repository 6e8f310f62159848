"""``lifeline preflight postgres`` against a real, deliberately broken PostgreSQL.

Each test first puts the identity database back as ``lifeline seed`` leaves
it (sample tables, CDC role, publication; three tables with REPLICA IDENTITY
DEFAULT; unlimited max_slot_wal_keep_size), breaks what it is about, and
checks the result of each check, the exit code and what ``--fix`` did.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lifeline.preflight.postgres import preflight_postgres
from lifeline.preflight.report import Result
from lifeline.preflight.scope import postgres_scope
from lifeline.samples import schema
from lifeline.stack import postgres as postgres_module
from tests.preflight.conftest import (
    ADMIN_PASSWORD,
    CDC_PASSWORD,
    Databases,
    results,
    run_preflight,
)

pytestmark = pytest.mark.stack

DEFAULT_IDENTITY = ("organisations", "memberships", "external_ids")


@pytest.fixture
def pg(databases: Databases) -> Iterator[Databases]:
    _restore(databases)
    yield databases
    _restore(databases)


def _restore(dbs: Databases) -> None:
    schema.apply_identity_schema(dbs.settings)
    dbs.pg(
        *(f"ALTER TABLE {t} REPLICA IDENTITY DEFAULT" for t in DEFAULT_IDENTITY),
        "ALTER TABLE users REPLICA IDENTITY FULL",
        "ALTER SYSTEM RESET max_slot_wal_keep_size",
        "SELECT pg_reload_conf()",
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots",
    )


def test_seeded_database_passes_with_warnings_only(pg: Databases) -> None:
    code, output = run_preflight(pg.settings, "postgres", pg.pg_dsn())

    assert code == 1, output
    found = results(output)
    for name in (
        "wal_level",
        "max_replication_slots",
        "max_wal_senders",
        "replication right",
        "captured tables",
        "select right",
        "publication",
        "slot",
        "retained WAL",
        "heartbeat",
    ):
        assert found[name] == {"pass"}, (name, output)
    assert found["replica identity"] == {"warn"}
    assert found["max_slot_wal_keep_size"] == {"warn"}
    # The scope came from connectors/identity-postgres.json.
    assert "public.external_ids, public.memberships" in output
    assert "lifeline_identity holds all 4 tables" in output
    for table in DEFAULT_IDENTITY:
        expected = f'ALTER TABLE "public"."{table}" REPLICA IDENTITY FULL;'
        assert expected in output
    assert CDC_PASSWORD not in output


def test_missing_rights_fail_and_fix_repairs_everything(pg: Databases) -> None:
    role = pg.settings.postgres.cdc_user
    pg.pg(
        f"ALTER ROLE {role} NOREPLICATION",
        f"REVOKE SELECT ON users FROM {role}",
        "ALTER PUBLICATION lifeline_identity DROP TABLE memberships",
        "ALTER TABLE users REPLICA IDENTITY NOTHING",
    )

    code, output = run_preflight(pg.settings, "postgres", pg.pg_dsn())

    assert code == 2, output
    found = results(output)
    assert found["replication right"] == {"fail"}
    assert found["select right"] == {"fail"}
    assert found["publication"] == {"fail"}
    assert found["replica identity"] == {"fail", "warn"}
    assert f'ALTER ROLE "{role}" WITH REPLICATION;' in output
    assert f'GRANT SELECT ON TABLE "public"."users" TO "{role}";' in output

    admin = pg.pg_dsn(admin=True)
    code, output = run_preflight(
        pg.settings, "postgres", pg.pg_dsn(), "--fix", "--yes", "--admin-dsn", admin
    )

    assert code == 0, output
    assert "fixes, run as lifeline@127.0.0.1" in output
    assert output.count("    applied") == 9  # 4 fails, 3 identities, cap + reload
    assert ADMIN_PASSWORD not in output and CDC_PASSWORD not in output
    again, output = run_preflight(pg.settings, "postgres", pg.pg_dsn())
    assert again == 0, output


def test_fix_asks_before_each_statement(
    pg: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions: list[str] = []

    def refuse(question: str) -> str:
        questions.append(question)
        return "n"

    monkeypatch.setattr("builtins.input", refuse)
    admin = pg.pg_dsn(admin=True)

    code, output = run_preflight(
        pg.settings, "postgres", pg.pg_dsn(), "--fix", "--admin-dsn", admin
    )

    assert code == 1, output
    assert len(questions) == 5  # three identities, the WAL cap and its reload
    assert output.count("    skipped") == 5
    # Nothing applied, nothing to re-check: the report is printed once.
    assert output.count("preflight of ") == 1, output
    assert "no fix applied: the report above stands (exit 1)" in output
    identity = pg.pg("SELECT relreplident FROM pg_class WHERE relname = 'memberships'")
    assert identity == [("d",)]


def test_server_settings_fail_and_are_never_applied(
    pg: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = ("wal_level=replica", "max_replication_slots=0", "max_wal_senders=0")
    _restart(pg, monkeypatch, broken)
    try:
        code, output = run_preflight(
            pg.settings,
            "postgres",
            pg.pg_dsn(),
            "--fix",
            "--yes",
            "--admin-dsn",
            pg.pg_dsn(admin=True),
        )
        settings = pg.pg(
            "SELECT current_setting('wal_level'), "
            "pg_read_file('postgresql.auto.conf') LIKE '%wal_level%'"
        )
    finally:
        _restart(pg, monkeypatch, None)

    assert code == 2, output
    found = results(output)
    for name in ("wal_level", "max_replication_slots", "max_wal_senders"):
        assert found[name] == {"fail"}, (name, output)
    restart_list = output.split("take effect after a restart:", 1)[1]
    assert "ALTER SYSTEM SET wal_level = logical;" in restart_list
    assert "ALTER SYSTEM SET max_wal_senders = 3;" in restart_list
    assert settings == [("replica", False)]


def _restart(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...] | None
) -> None:
    """Restart the server with other command-line settings (None: the usual)."""
    dbs.postgres.stop()
    with monkeypatch.context() as patch:
        if options is not None:
            patch.setattr(postgres_module, "_SERVER_OPTIONS", options)
        dbs.postgres.start()


def test_inactive_slots_are_reported_and_never_dropped(pg: Databases) -> None:
    pg.pg(
        "SELECT pg_create_logical_replication_slot('preflight_idle', 'pgoutput')",
        "SELECT pg_create_logical_replication_slot('lifeline_identity', "
        "'test_decoding')",
        "CREATE TABLE IF NOT EXISTS wal_filler (n int)",
        "INSERT INTO wal_filler SELECT generate_series(1, 20000)",
    )
    admin = pg.pg_dsn(admin=True)

    code, output = run_preflight(
        pg.settings,
        "postgres",
        pg.pg_dsn(),
        "--max-retained-wal",
        "64KB",
        "--fix",
        "--yes",
        "--admin-dsn",
        admin,
    )

    assert code == 2, output  # the connector's slot has the wrong plugin
    first = output.split("\n\n", 1)[0]
    assert "slot preflight_idle is inactive and keeps" in first
    assert "lifeline_identity uses test_decoding, not pgoutput" in first
    assert results(output)["retained WAL"] == {"warn"}
    decisions = output.split("need a decision:", 1)[1]
    assert "SELECT pg_drop_replication_slot('preflight_idle');" in decisions
    slots = pg.pg("SELECT slot_name FROM pg_replication_slots ORDER BY 1")
    assert slots == [("lifeline_identity",), ("preflight_idle",)]
    pg.pg("DROP TABLE wal_filler")


def test_options_override_the_template(pg: Databases) -> None:
    scope = postgres_scope(pg.settings, tables="public.users,public.nope")
    report = preflight_postgres(pg.pg_dsn(), scope)

    assert report.result_of("captured tables") is Result.FAIL
    tables = next(c for c in report.checks if c.name == "captured tables")
    assert tables.finding == "no table matches public.nope"
    assert report.exit_code == 2


def test_refused_login_is_one_failure_with_the_password_masked(
    pg: Databases,
) -> None:
    wrong = pg.pg_dsn(password="Wrong-Pw-5521")

    code, output = run_preflight(pg.settings, "postgres", wrong)

    assert code == 2
    assert results(output) == {"connection": {"fail"}}
    assert "password authentication failed" in output
    assert "Wrong-Pw-5521" not in output


def test_signal_and_heartbeat_tables_are_checked_and_fixed(pg: Databases) -> None:
    role = pg.settings.postgres.cdc_user
    pg.pg(
        "DROP TABLE public.lifeline_heartbeat",
        f"REVOKE INSERT ON public.lifeline_signal FROM {role}",
        "ALTER PUBLICATION lifeline_identity DROP TABLE public.lifeline_signal",
    )

    code, output = run_preflight(pg.settings, "postgres", pg.pg_dsn())

    assert code == 2, output
    found = results(output)
    assert found["heartbeat table"] == {"fail"}  # the connector would stop
    assert found["signal table"] == {"warn"}
    assert "public.lifeline_heartbeat: does not exist: heartbeat.action" in output
    assert f"role {role} lacks INSERT; not in lifeline_identity" in output
    assert 'CREATE TABLE IF NOT EXISTS "public"."lifeline_heartbeat"' in output
    assert f'GRANT INSERT ON TABLE "public"."lifeline_signal" TO "{role}";' in output
    assert (
        'ALTER PUBLICATION "lifeline_identity" ADD TABLE "public"."lifeline_signal";'
        in output
    )

    admin = pg.pg_dsn(admin=True)
    code, output = run_preflight(
        pg.settings, "postgres", pg.pg_dsn(), "--fix", "--yes", "--admin-dsn", admin
    )

    assert code == 0, output
    again = results(output.rsplit("\n\n", 1)[-1])
    assert again["heartbeat table"] == again["signal table"] == {"pass"}
    published = pg.pg(
        "SELECT tablename FROM pg_publication_tables WHERE pubname = "
        "'lifeline_identity' AND tablename LIKE 'lifeline_%' ORDER BY 1"
    )
    assert published == [("lifeline_heartbeat",), ("lifeline_signal",)]
