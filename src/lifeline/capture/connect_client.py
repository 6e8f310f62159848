"""A small client for the Kafka Connect REST API.

Every call raises :class:`~lifeline.errors.RetryableError` when the worker
cannot be reached (it may be starting) and
:class:`~lifeline.errors.ConnectorError` when it answers with an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from lifeline.errors import ConnectorError, RetryableError

logger = logging.getLogger(__name__)

RUNNING = "RUNNING"


@dataclass(frozen=True, slots=True)
class TaskState:
    """One task of a connector, as the worker reports it."""

    task_id: int
    state: str
    worker_id: str = ""
    trace: str = ""


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """A connector and its tasks, as ``GET /connectors/NAME/status`` reports."""

    name: str
    state: str
    worker_id: str = ""
    trace: str = ""
    tasks: tuple[TaskState, ...] = field(default_factory=tuple)

    @property
    def running(self) -> bool:
        """True when the connector and at least one task, all of them, run."""
        return (
            self.state == RUNNING
            and bool(self.tasks)
            and all(task.state == RUNNING for task in self.tasks)
        )

    @property
    def failure_trace(self) -> str:
        """The first failure trace of the connector or one of its tasks."""
        if self.trace:
            return self.trace
        return next((task.trace for task in self.tasks if task.trace), "")


class ConnectClient:
    """Talks to one Kafka Connect worker (any worker of a cluster will do)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            return self._session.request(method, url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            msg = f"Kafka Connect at {self.base_url} is not reachable: {exc}"
            raise RetryableError(msg) from exc

    def _check(self, response: requests.Response, connector: str) -> Any:
        if response.status_code >= 400:
            try:
                detail = response.json().get("message", response.text)
            except ValueError:
                detail = response.text
            reason = f"{response.request.method} answered {response.status_code}"
            raise ConnectorError(connector, reason, str(detail))
        return response.json() if response.content else None

    def connectors(self) -> list[str]:
        """Names of the connectors the cluster runs."""
        result = self._check(self._call("GET", "/connectors"), "*")
        return sorted(result)

    def put_config(self, name: str, config: Mapping[str, str]) -> bool:
        """Create or update a connector (idempotent); True when it was created."""
        response = self._call("PUT", f"/connectors/{name}/config", config)
        self._check(response, name)
        return response.status_code == 201

    def config(self, name: str) -> dict[str, str] | None:
        """The connector's config as the cluster holds it, or None."""
        response = self._call("GET", f"/connectors/{name}/config")
        if response.status_code == 404:
            return None
        result: dict[str, str] = self._check(response, name)
        return result

    def status(self, name: str) -> ConnectorState | None:
        """The connector's state, or None when the cluster does not know it."""
        response = self._call("GET", f"/connectors/{name}/status")
        if response.status_code == 404:
            return None
        body = self._check(response, name)
        connector = body.get("connector", {})
        tasks = tuple(
            TaskState(
                task_id=int(task.get("id", 0)),
                state=task.get("state", "UNKNOWN"),
                worker_id=task.get("worker_id", ""),
                trace=task.get("trace", ""),
            )
            for task in body.get("tasks", [])
        )
        return ConnectorState(
            name=name,
            state=connector.get("state", "UNKNOWN"),
            worker_id=connector.get("worker_id", ""),
            trace=connector.get("trace", ""),
            tasks=tasks,
        )

    def delete(self, name: str) -> bool:
        """Remove a connector; False when it did not exist."""
        response = self._call("DELETE", f"/connectors/{name}")
        if response.status_code == 404:
            return False
        self._check(response, name)
        return True

    def wait_running(
        self, name: str, timeout: float = 90.0, interval: float = 0.5
    ) -> ConnectorState:
        """Block until connector and tasks are RUNNING.

        Raises ConnectorError with the worker's trace as soon as the
        connector or a task is FAILED, or when ``timeout`` runs out.
        """
        deadline = time.monotonic() + timeout
        last: ConnectorState | None = None
        while time.monotonic() < deadline:
            try:
                last = self.status(name)
            except RetryableError:
                last = None
            if last is not None and last.running:
                return last
            if last is not None and "FAILED" in (
                last.state,
                *(task.state for task in last.tasks),
            ):
                raise ConnectorError(name, "FAILED", last.failure_trace)
            time.sleep(interval)
        state = "unknown" if last is None else last.state
        tasks = "none" if last is None else str([t.state for t in last.tasks])
        reason = f"not RUNNING after {timeout:.0f}s (state={state} tasks={tasks})"
        raise ConnectorError(name, reason, "" if last is None else last.failure_trace)
