"""What ``lifeline status`` reports: every part of a deployment on one screen.

:func:`collect` asks each part for its state without changing anything: the
stack's components, each connector and its tasks on Kafka Connect, the
replication slots' lag, each flow's process, and the key figures from each
running flow's metrics endpoint. A part that is down or unreachable becomes
a *problem*; ``lifeline status`` exits non-zero when there is one. Slots
over their warning threshold are *warnings*: data is still flowing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from lifeline.capture.connect_client import RUNNING, ConnectClient
from lifeline.capture.slots import slot_lag
from lifeline.capture.templates import load_templates
from lifeline.errors import LifelineError, RetryableError
from lifeline.flows.runner import FlowProcess
from lifeline.observe.scrape import FlowFigures, figures, scrape
from lifeline.settings import Settings
from lifeline.stack.base import ComponentStatus, State
from lifeline.stack.manager import Stack

_UP = (State.RUNNING, State.EXTERNAL)


@dataclass(frozen=True)
class ConnectorLine:
    """A connector's state and its tasks' (``absent``: not on the cluster)."""

    name: str
    state: str
    tasks: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        """True when the connector and every task (at least one) run."""
        return (
            self.state == RUNNING
            and bool(self.tasks)
            and all(task == RUNNING for task in self.tasks)
        )


@dataclass(frozen=True)
class SlotLine:
    """One replication slot's lag in bytes (None: unknown)."""

    slot: str
    active: bool
    retained_bytes: int | None
    flush_lag_bytes: int | None


@dataclass(frozen=True)
class FlowLine:
    """A flow's process, where its metrics are and what they said."""

    status: ComponentStatus
    metrics_url: str | None
    figures: FlowFigures | None = None
    error: str = ""

    @property
    def name(self) -> str:
        """The flow's name (``golden``)."""
        return self.status.name.removeprefix("flow:")


@dataclass
class StatusReport:
    """Everything :func:`collect` found; ``problems`` say what is down."""

    stack: list[ComponentStatus]
    connectors: list[ConnectorLine]
    flows: list[FlowLine]
    slots: list[SlotLine] | None = None
    slots_note: str = ""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is down."""
        return not self.problems


def flow_names(folder: Path = Path("dataflows")) -> list[str]:
    """The flows of ``dataflows/``, by name."""
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


def collect(settings: Settings) -> StatusReport:
    """Ask every part for its state (read-only); see the module docstring."""
    report = StatusReport(
        stack=Stack(settings).status(), connectors=[], flows=[], slots=None
    )
    for component in report.stack:
        if component.state not in _UP:
            report.problems.append(f"{component.name} is {component.state.value}")
    _connectors(settings, report)
    _slots(settings, report)
    _flows(settings, report)
    return report


def _connectors(settings: Settings, report: StatusReport) -> None:
    client = ConnectClient(settings.connect.url, timeout=5.0)
    try:
        names = [template.name for template in load_templates()]
        names += [name for name in client.connectors() if name not in names]
        states = {name: client.status(name) for name in names}
    except RetryableError:
        report.problems.append(f"connectors: unknown, {client.base_url} not reachable")
        return
    except LifelineError as exc:
        report.problems.append(f"connectors: {_first_line(exc)}")
        return
    for name, state in states.items():
        line = (
            ConnectorLine(name, "absent")
            if state is None
            else ConnectorLine(name, state.state, tuple(t.state for t in state.tasks))
        )
        report.connectors.append(line)
        if not line.running:
            tasks = ",".join(line.tasks) or "none"
            report.problems.append(f"connector {name} is {line.state} (tasks: {tasks})")


def _slots(settings: Settings, report: StatusReport) -> None:
    try:
        lags = slot_lag(settings)
    except LifelineError as exc:
        report.slots_note = f"slot lag unknown: {_first_line(exc)}"
        return
    report.slots = [
        SlotLine(lag.slot, lag.active, lag.retained_bytes, lag.flush_lag_bytes)
        for lag in lags
    ]
    threshold = settings.postgres.slot_lag_warn_bytes
    for lag in lags:
        if lag.over(threshold):
            report.warnings.append(
                f"slot {lag.slot} keeps {lag.retained_bytes} bytes of WAL "
                f"(warning above {threshold})"
            )


def _flows(settings: Settings, report: StatusReport) -> None:
    now = time.time()
    for name in flow_names():
        status = FlowProcess(settings, name).status()
        url = settings.metrics.url_for(name)
        line = FlowLine(status, url)
        if status.state is State.UNHEALTHY:
            report.problems.append(f"flow {name} is {status.state.value}")
        elif status.state is State.RUNNING and url is not None:
            try:
                line = FlowLine(status, url, figures(scrape(url), now))
            except LifelineError as exc:
                line = FlowLine(status, url, error=_first_line(exc))
                report.problems.append(f"flow {name}: {line.error}")
        report.flows.append(line)
    if not any(line.status.state is State.RUNNING for line in report.flows):
        report.problems.append("no dataflow is running")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
