"""``lifeline status``: a report of every part, non-zero when one is down."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifeline.cli import main
from lifeline.observe.command import render, report_json
from lifeline.observe.scrape import FlowFigures
from lifeline.observe.status import ConnectorLine, FlowLine, StatusReport
from lifeline.stack.base import ComponentStatus, State
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def nothing_running(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings whose every server would be on a port nobody listens on."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LIFELINE_STATE_DIR", str(tmp_path / "state"))
    for part in ("BROKER", "CONNECT", "POSTGRES", "MARIADB", "REDIS", "METRICS"):
        monkeypatch.setenv(f"LIFELINE_{part}__PORT", str(free_port()))


def test_nothing_running_is_down(
    nothing_running: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert "broker is stopped" in report["problems"]
    assert "no dataflow is running" in report["problems"]
    assert any(p.startswith("connectors: unknown") for p in report["problems"])
    assert {flow["flow"] for flow in report["flows"]} >= {"skeleton", "golden"}
    assert all(flow["figures"] is None for flow in report["flows"])


def test_the_text_report_ends_with_the_verdict(
    nothing_running: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert out.rstrip().endswith("problems)")
    assert "- no dataflow is running" in out


def running(name: str) -> ComponentStatus:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    return ComponentStatus(name, State.RUNNING, "127.0.0.1:1", 10, started)


def test_a_healthy_report_shows_figures_webhooks_and_sagas() -> None:
    figures = FlowFigures(
        uptime_seconds=100.0,
        changes=250.0,
        dead_letters=1.0,
        decode_errors=1.0,
        dropped=3.0,
        p99_commit_to_cache={"rows": 0.0125, "golden": None},
        webhooks={"crm": {"delivered": 7.0, "dead_lettered": 2.0}},
        circuits={"crm": "open", "onboarding": "closed"},
        saga_cases={"onboarding": {"completed": 4.0, "exception": 1.0}},
    )
    report = StatusReport(
        stack=[running("broker")],
        connectors=[ConnectorLine("lifeline-erp", "RUNNING", ("RUNNING",))],
        flows=[
            FlowLine(
                running("flow:deliveries"),
                "http://127.0.0.1:19102/metrics",
                figures,
            )
        ],
        slots_note="slot lag unknown: postgres at 127.0.0.1:1: refused",
    )
    text = render(report)
    assert text.endswith("status: up")
    assert "2.5" in text  # changes per second
    assert "rows 0.013s, golden -" in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line}
    assert rows["crm"] == ["7", "0", "2", "0", "open"]
    assert rows["onboarding"] == ["4", "0", "1", "0", "closed"]
    data = report_json(report)
    assert data["ok"] is True
    flow = data["flows"][0]
    assert flow["flow"] == "deliveries"
    assert flow["figures"]["exception_queue"] == 1.0
    assert flow["figures"]["changes_per_second"] == 2.5
    json.dumps(data)  # JSON-ready
