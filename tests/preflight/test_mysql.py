"""``lifeline preflight mysql`` against a real, deliberately broken MariaDB.

The managed MariaDB starts as Debezium needs it (binary log on, ROW, FULL,
three days of retention) and ``lifeline seed`` has given the CDC user its
grants. Each test breaks one thing and puts it back; ``--fix`` runs as the
admin user.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lifeline.errors import FatalError
from lifeline.samples import schema
from lifeline.stack import mariadb as mariadb_module
from tests.preflight.conftest import (
    ADMIN_PASSWORD,
    CDC_PASSWORD,
    Databases,
    results,
    run_preflight,
)

pytestmark = pytest.mark.stack

GOOD_SETTINGS = (
    "SET GLOBAL binlog_format = 'ROW'",
    "SET GLOBAL binlog_row_image = 'FULL'",
    f"SET GLOBAL binlog_expire_logs_seconds = {3 * 86400}",
)


@pytest.fixture
def my(databases: Databases) -> Iterator[Databases]:
    _restore(databases)
    yield databases
    _restore(databases)


def _restore(dbs: Databases) -> None:
    server_id = dbs.settings.mariadb.server_id
    dbs.my(*GOOD_SETTINGS, f"SET GLOBAL server_id = {server_id}")
    schema.apply_erp_schema(dbs.settings)


def test_managed_mariadb_passes_every_check(my: Databases) -> None:
    code, output = run_preflight(my.settings, "mysql", my.my_dsn())

    assert code == 0, output
    found = results(output)
    assert set(found) == {
        "log_bin",
        "binlog_format",
        "binlog_row_image",
        "server_id",
        "binlog retention",
        "gtid",
        "captured tables",
        "grants",
        "signal table",
        "heartbeat",
    }
    assert all(value == {"pass"} for value in found.values()), output
    assert "(MariaDB 5.7.19-log)" in output  # spoofed version, still MariaDB
    assert "erp.customers, erp.invoices" in output  # from erp-mariadb.json
    assert "MariaDB GTIDs" in output
    assert CDC_PASSWORD not in output


def test_statement_binlog_short_grants_fail_and_fix_repairs_them(
    my: Databases,
) -> None:
    user = my.settings.mariadb.cdc_user
    my.my(
        "SET GLOBAL binlog_format = 'STATEMENT'",
        "SET GLOBAL binlog_row_image = 'MINIMAL'",
        "SET GLOBAL binlog_expire_logs_seconds = 0",
        f"REVOKE RELOAD, LOCK TABLES ON *.* FROM '{user}'@'%'",
    )

    code, output = run_preflight(my.settings, "mysql", my.my_dsn())

    assert code == 2, output
    found = results(output)
    assert found["binlog_format"] == {"fail"}
    assert found["binlog_row_image"] == {"fail"}
    assert found["binlog retention"] == {"warn"}
    assert found["grants"] == {"fail"}
    assert "lacks RELOAD on *.*, LOCK TABLES on erp" in output
    assert "SET GLOBAL binlog_format = 'ROW';" in output

    admin = my.my_dsn(admin=True)
    code, output = run_preflight(
        my.settings, "mysql", my.my_dsn(), "--fix", "--yes", "--admin-dsn", admin
    )

    assert code == 0, output
    assert output.count("    applied") == 5
    assert f"GRANT RELOAD ON *.* TO '{user}'@'%';" in output
    assert ADMIN_PASSWORD not in output and CDC_PASSWORD not in output
    again, output = run_preflight(my.settings, "mysql", my.my_dsn())
    assert again == 0, output
    assert "7 days" in output


def test_short_retention_and_a_shared_server_id_are_reported(
    my: Databases,
) -> None:
    connector_id = my.settings.mariadb.server_id + 1  # the template's choice
    my.my(
        "SET GLOBAL binlog_expire_logs_seconds = 7200",
        f"SET GLOBAL server_id = {connector_id}",
    )

    code, output = run_preflight(my.settings, "mysql", my.my_dsn())

    assert code == 2, output
    found = results(output)
    assert found["binlog retention"] == {"warn"}
    assert "2 hours: a connector stopped for longer loses its place" in output
    assert found["server_id"] == {"fail"}
    assert "also the connector's database.server.id" in output


def test_binary_log_off_fails_and_is_left_to_a_restart(
    my: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = tuple(o for o in mariadb_module._SERVER_OPTIONS if "log-bin" not in o)
    _restart(my, monkeypatch, options)
    try:
        code, output = run_preflight(
            my.settings,
            "mysql",
            my.my_dsn(),
            "--fix",
            "--yes",
            "--admin-dsn",
            my.my_dsn(admin=True),
        )
        log_bin = my.my("SELECT @@log_bin")
    finally:
        _restart(my, monkeypatch, None)

    assert code == 2, output
    assert results(output)["log_bin"] == {"fail"}
    assert "nothing that --fix may apply" in output
    restart_list = output.split("take effect after a restart:", 1)[1]
    assert "log_bin = binlog" in restart_list
    assert log_bin == [(0,)]


def _restart(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...] | None
) -> None:
    """Restart the server with other options (None: the usual ones)."""
    dbs.mariadb.stop()
    with monkeypatch.context() as patch:
        if options is not None:
            patch.setattr(mariadb_module, "_SERVER_OPTIONS", options)
        dbs.mariadb.start()


def test_refused_login_is_one_failure_with_the_password_masked(
    my: Databases,
) -> None:
    code, output = run_preflight(
        my.settings, "mysql", my.my_dsn(password="Wrong-Pw-7731")
    )

    assert code == 2
    assert results(output) == {"connection": {"fail"}}
    assert "Access denied" in output
    assert "Wrong-Pw-7731" not in output


def test_malformed_dsn_is_an_error_that_does_not_echo_it(my: Databases) -> None:
    with pytest.raises(FatalError) as caught:
        run_preflight(my.settings, "mysql", "mysql:/nohost:Secret-Pw-1")

    assert "Secret-Pw-1" not in str(caught.value)


def test_signal_table_missing_or_unwritable_warns_and_fix_repairs(
    my: Databases,
) -> None:
    user = my.settings.mariadb.cdc_user
    admin = my.my_dsn(admin=True)
    my.my(f"REVOKE INSERT, DELETE ON erp.lifeline_signal FROM '{user}'@'%'")

    code, output = run_preflight(my.settings, "mysql", my.my_dsn())

    assert code == 1, output
    assert results(output)["signal table"] == {"warn"}
    assert f"erp.lifeline_signal lacks INSERT, DELETE for {user}@%" in output
    assert "CREATE TABLE" not in output

    my.my("DROP TABLE erp.lifeline_signal")
    code, output = run_preflight(
        my.settings, "mysql", my.my_dsn(), "--fix", "--yes", "--admin-dsn", admin
    )

    assert code == 0, output
    assert "erp.lifeline_signal does not exist" in output
    assert "  CREATE TABLE IF NOT EXISTS `erp`.`lifeline_signal` (" in output
    assert output.count("    applied") == 2
    assert my.my("SELECT COUNT(*) FROM erp.lifeline_signal") == [(0,)]
