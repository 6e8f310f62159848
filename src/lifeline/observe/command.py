"""``lifeline status [--json]``: the whole deployment on one screen.

Shows the stack's components, each connector and its tasks, replication
slot lag, each flow's process, and the key figures from each running flow's
metrics endpoint: changes per second and dead letters since the flow
started, the p99 commit-to-cache latency, webhook outcomes and circuit
states, and onboarding cases sent to the exception queue. Exit codes: 0
everything is up, 1 something is down (listed under ``problems``), 2 an
error.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from lifeline.observe.scrape import FlowFigures
from lifeline.observe.status import FlowLine, StatusReport, collect
from lifeline.settings import Settings
from lifeline.stack.base import ComponentStatus
from lifeline.table import render_table
from lifeline.wording import counted

EXIT_OK, EXIT_DOWN = 0, 1
_OUTCOMES = ("delivered", "duplicate", "dead_lettered", "lost")
_CASES = ("completed", "compensated", "exception", "lost")


def add_parser(subparsers: Any) -> None:
    """Register ``status`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "status",
        help="stack, connectors, flows and their key figures on one screen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead")
    parser.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print the report; 1 when something is down."""
    report = collect(settings)
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(render(report))
    return EXIT_OK if report.ok else EXIT_DOWN


def render(report: StatusReport) -> str:
    """The report as text tables, problems last."""
    sections = [
        ("stack", render_table(*_component_rows(report.stack))),
        ("connectors", _connectors(report)),
        ("replication slots", _slots(report)),
        ("flows", render_table(*_flow_rows(report.flows))),
        ("figures since each flow started", _figures(report.flows)),
        ("webhook targets", _webhooks(report.flows)),
        ("onboarding sagas", _sagas(report.flows)),
    ]
    text = [f"{title}\n{body}" for title, body in sections if body]
    for title, lines in (("problems", report.problems), ("warnings", report.warnings)):
        if lines:
            text.append(title + "\n" + "\n".join(f"- {line}" for line in lines))
    verdict = (
        "up" if report.ok else f"DOWN ({counted(len(report.problems), 'problem')})"
    )
    text.append(f"status: {verdict}")
    return "\n\n".join(text)


def _component_rows(
    statuses: Iterable[ComponentStatus],
) -> tuple[list[str], list[tuple[object, ...]]]:
    rows: list[tuple[object, ...]] = [
        (
            s.name,
            s.state.value + (f" ({s.detail})" if s.detail else ""),
            s.address,
            s.pid,
            s.started_at.isoformat(timespec="seconds") if s.started_at else None,
        )
        for s in statuses
    ]
    return ["component", "state", "address", "pid", "started"], rows


def _flow_rows(flows: list[FlowLine]) -> tuple[list[str], list[tuple[object, ...]]]:
    _, rows = _component_rows(line.status for line in flows)
    metrics = [_endpoint(line.metrics_url) for line in flows]
    return ["flow", "state", "file", "pid", "started", "metrics"], [
        (line.name, *row[1:], endpoint)
        for line, row, endpoint in zip(flows, rows, metrics, strict=True)
    ]


def _endpoint(url: str | None) -> str:
    return (
        "off" if url is None else url.removeprefix("http://").removesuffix("/metrics")
    )


def _connectors(report: StatusReport) -> str:
    rows = [(c.name, c.state, ",".join(c.tasks) or "-") for c in report.connectors]
    return render_table(["connector", "state", "tasks"], rows) if rows else ""


def _slots(report: StatusReport) -> str:
    if report.slots is None:
        return report.slots_note
    rows = [
        (s.slot, "yes" if s.active else "no", s.retained_bytes, s.flush_lag_bytes)
        for s in report.slots
    ]
    headers = ["slot", "active", "retained bytes", "unconfirmed bytes"]
    return render_table(headers, rows) if rows else "no replication slots"


def _figures(flows: list[FlowLine]) -> str:
    rows = [
        (
            line.name,
            _number(f.changes_per_second),
            _number(f.changes),
            _number(f.dead_letters),
            _number(f.dropped),
            _latencies(f),
        )
        for line, f in _scraped(flows)
    ]
    headers = ["flow", "changes/s", "changes", "dead letters", "dropped"]
    headers.append("p99 commit to cache")
    notes = [f"{line.name}: {line.error}" for line in flows if line.error]
    table = render_table(headers, rows) if rows else ""
    return "\n".join([table, *notes]).strip()


def _webhooks(flows: list[FlowLine]) -> str:
    rows = [
        (
            target,
            *(_number(outcomes.get(o, 0.0)) for o in _OUTCOMES),
            f.circuits.get(target, "-"),
        )
        for _, f in _scraped(flows)
        for target, outcomes in sorted(f.webhooks.items())
    ]
    headers = ["target", *_OUTCOMES, "circuit"]
    return render_table(headers, rows) if rows else ""


def _sagas(flows: list[FlowLine]) -> str:
    rows = [
        (saga, *(_number(cases.get(c, 0.0)) for c in _CASES), f.circuits.get(saga))
        for _, f in _scraped(flows)
        for saga, cases in sorted(f.saga_cases.items())
    ]
    headers = ["saga", "completed", "compensated", "exception queue", "lost"]
    return render_table([*headers, "circuit"], rows) if rows else ""


def _scraped(flows: list[FlowLine]) -> list[tuple[FlowLine, FlowFigures]]:
    return [(line, line.figures) for line in flows if line.figures is not None]


def _latencies(figures: FlowFigures) -> str:
    parts = [
        f"{cache} {_seconds(value)}"
        for cache, value in figures.p99_commit_to_cache.items()
    ]
    return ", ".join(parts) or "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def report_json(report: StatusReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "ok": report.ok,
        "problems": report.problems,
        "warnings": report.warnings,
        "stack": [_component_json(s) for s in report.stack],
        "connectors": [
            {"name": c.name, "state": c.state, "tasks": list(c.tasks)}
            for c in report.connectors
        ],
        "slots": None if report.slots is None else [asdict(s) for s in report.slots],
        "slots_note": report.slots_note,
        "flows": [_flow_json(line) for line in report.flows],
    }


def _component_json(status: ComponentStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "state": status.state.value,
        "address": status.address,
        "pid": status.pid,
        "started_at": status.started_at.isoformat() if status.started_at else None,
        "detail": status.detail,
    }


def _flow_json(line: FlowLine) -> dict[str, Any]:
    f = line.figures
    figures = None
    if f is not None:
        figures = {
            "uptime_seconds": f.uptime_seconds,
            "changes": f.changes,
            "changes_per_second": f.changes_per_second,
            "dead_letters": f.dead_letters,
            "decode_errors": f.decode_errors,
            "dropped": f.dropped,
            "p99_commit_to_cache_seconds": f.p99_commit_to_cache,
            "p99_propagation_seconds": f.p99_propagation,
            "webhooks": f.webhooks,
            "circuits": f.circuits,
            "saga_cases": f.saga_cases,
            "exception_queue": f.exceptions,
        }
    return {
        **_component_json(line.status),
        "flow": line.name,
        "metrics_url": line.metrics_url,
        "figures": figures,
        "error": line.error,
    }
