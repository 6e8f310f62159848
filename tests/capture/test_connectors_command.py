"""``lifeline connectors ...`` against the real Connect worker of our own stack.

The tests run in file order and share the session's connectors: apply (in
the fixture), validate, pause/resume, a FAILED task restarted, and delete,
which comes last.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import psycopg
import pytest

from lifeline.capture.connect_client import ConnectClient, ConnectorState
from lifeline.cli import main
from lifeline.errors import ConnectorError, FatalError
from tests.capture.conftest import CDC_PASSWORD, Running, run_connectors

pytestmark = pytest.mark.stack

ERP, IDENTITY = "lifeline-erp", "lifeline-identity"


def _client(running: Running) -> ConnectClient:
    return ConnectClient(running.settings.connect.url)


def _state(running: Running, name: str) -> ConnectorState:
    state = _client(running).status(name)
    assert state is not None, name
    return state


def test_apply_creates_every_template_and_waits_for_running(running: Running) -> None:
    assert running.applied_output.splitlines() == [
        f"{ERP}: created, connector and 1 task RUNNING",
        f"{IDENTITY}: created, connector and 1 task RUNNING",
    ]
    code, output = run_connectors(running.settings, "apply", ERP)

    assert code == 0
    assert output == f"{ERP}: unchanged, connector and 1 task RUNNING\n"


def test_status_lists_connectors_and_their_tasks(running: Running) -> None:
    code, output = run_connectors(running.settings, "status")

    assert code == 0
    lines = output.splitlines()
    assert lines[0].split() == ["connector", "state", "tasks"]
    assert lines[2].split() == [ERP, "RUNNING", "RUNNING"]
    assert lines[3].split() == [IDENTITY, "RUNNING", "RUNNING"]
    assert CDC_PASSWORD not in output


def test_status_of_an_unknown_name_fails_naming_the_known_ones(
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(FatalError, match="no connector template or connector named"):
        run_connectors(running.settings, "status", "nope")
    monkeypatch.setenv("LIFELINE_CONNECT__PORT", str(running.settings.connect.port))

    code = main(["connectors", "status", "nope"])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == (
        "lifeline connectors: no connector template or connector named nope "
        f"(templates: {ERP}, {IDENTITY}; other connectors on the cluster: none)\n"
    )


def test_valid_templates_validate(running: Running) -> None:
    code, output = run_connectors(running.settings, "validate")

    assert code == 0, output
    assert f"{ERP}: valid for io.debezium.connector.mysql.MySqlConnector" in output
    assert f"{IDENTITY}: valid for" in output


def test_validate_lists_errors_per_key_and_never_the_secret(
    running: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = orjson.loads(
        (running.connectors_dir / "identity-postgres.json").read_bytes()
    )
    bad_values = dict(identity["config"], **{"snapshot.mode": "sometimes"})
    del bad_values["topic.prefix"]
    bad_login = dict(identity["config"], **{"database.password": "${env:BAD_PW}"})
    for name, config in (("bad-values", bad_values), ("bad-login", bad_login)):
        body = {"name": name, "config": config}
        (tmp_path / f"{name}.json").write_bytes(orjson.dumps(body))
    monkeypatch.setenv("LIFELINE_CONNECTORS_DIR", str(tmp_path))
    monkeypatch.setenv("BAD_PW", "Not-The-Pw-8812")

    code, output = run_connectors(running.settings, "validate")

    assert code == 1, output
    assert "bad-values: 2 errors" in output
    assert "  snapshot.mode: The 'snapshot.mode' value is invalid" in output
    assert "  topic.prefix: The 'topic.prefix' value is invalid" in output
    assert "bad-login: 1 error" in output
    assert "password authentication failed" in output
    assert "Not-The-Pw-8812" not in output
    assert _client(running).status("bad-values") is None  # nothing was created


def test_pause_then_resume(running: Running) -> None:
    code, output = run_connectors(running.settings, "pause", ERP)

    assert code == 0
    assert output == f"{ERP}: PAUSED, with 1 task\n"
    assert _state(running, ERP).all_in("PAUSED")

    code, output = run_connectors(running.settings, "resume", ERP)

    assert code == 0
    assert output == f"{ERP}: RUNNING, with 1 task\n"
    assert _state(running, ERP).running


def _admin(running: Running, *statements: str) -> None:
    with psycopg.connect(running.settings.postgres.dsn(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _wait_failed(running: Running, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _state(running, name).failed_tasks:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} never FAILED: {_state(running, name).summary}")


def test_restart_restarts_only_the_failed_task(running: Running) -> None:
    role = running.settings.postgres.cdc_user
    _admin(
        running,
        f"ALTER ROLE {role} NOREPLICATION",
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = 'lifeline_identity' AND active_pid IS NOT NULL",
    )
    try:
        _wait_failed(running, IDENTITY)
    finally:
        _admin(running, f"ALTER ROLE {role} REPLICATION")

    code, status = run_connectors(running.settings, "status", IDENTITY)
    assert code == 0
    assert status.splitlines()[2].split() == [IDENTITY, "RUNNING", "FAILED"]
    assert f"{IDENTITY} task 0 FAILED on " in status
    assert "    org.apache.kafka.connect.errors.ConnectException" in status
    assert "\tat " not in status  # stack frames are left out

    code, output = run_connectors(running.settings, "restart")

    assert code == 0, output
    assert f"{ERP}: nothing FAILED" in output
    assert f"{IDENTITY}: restarted task 0; 1 task RUNNING" in output
    assert _state(running, IDENTITY).running


def test_delete_asks_then_removes_and_names_the_slot(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("builtins.input", lambda _question: "n")
    code, output = run_connectors(running.settings, "delete", IDENTITY)
    assert (code, output) == (0, "nothing deleted\n")

    code, output = run_connectors(running.settings, "delete", IDENTITY, "--yes")

    assert code == 0
    assert output.startswith(f"{IDENTITY}: deleted;")
    assert "SELECT pg_drop_replication_slot('lifeline_identity');" in output
    assert _client(running).status(IDENTITY) is None
    code, status = run_connectors(running.settings, "status")
    assert status.splitlines()[3].split() == [IDENTITY, "absent", "-"]
    with pytest.raises(ConnectorError, match="unknown to the Connect cluster"):
        run_connectors(running.settings, "restart", IDENTITY)
    with pytest.raises(FatalError, match="no connector template named nope"):
        run_connectors(running.settings, "validate", "nope")
