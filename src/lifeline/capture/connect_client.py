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
from urllib.parse import quote

import requests

from lifeline.errors import ConnectorError, RetryableError

logger = logging.getLogger(__name__)

RUNNING = "RUNNING"
PAUSED = "PAUSED"
FAILED = "FAILED"


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
    def has_failure(self) -> bool:
        """True when the connector or one of its tasks is FAILED."""
        return FAILED in (self.state, *(task.state for task in self.tasks))

    @property
    def failed_tasks(self) -> list[int]:
        """Ids of the tasks in state FAILED."""
        return [task.task_id for task in self.tasks if task.state == FAILED]

    @property
    def summary(self) -> str:
        """``state=.. tasks=[..]`` for messages."""
        return f"state={self.state} tasks={[task.state for task in self.tasks]}"

    def all_in(self, state: str) -> bool:
        """True when the connector and at least one task, all of them, are in it."""
        return (
            self.state == state
            and bool(self.tasks)
            and all(task.state == state for task in self.tasks)
        )

    @property
    def failure_trace(self) -> str:
        """The first failure trace of the connector or one of its tasks."""
        if self.trace:
            return self.trace
        return next((task.trace for task in self.tasks if task.trace), "")


@dataclass(frozen=True, slots=True)
class FieldError:
    """A config key the plugin rejected, and why (its value is never kept)."""

    name: str
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Validation:
    """What ``PUT /connector-plugins/CLASS/config/validate`` said of a config."""

    plugin: str
    error_count: int
    fields: tuple[FieldError, ...]

    @property
    def valid(self) -> bool:
        """True when the plugin found nothing wrong."""
        return self.error_count == 0


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
        self,
        name: str,
        timeout: float = 90.0,
        interval: float = 0.5,
        *,
        failed_grace: float = 0.0,
    ) -> ConnectorState:
        """Block until connector and tasks are RUNNING.

        Raises ConnectorError with the worker's trace as soon as the
        connector or a task is FAILED, or when ``timeout`` runs out. Right
        after a restart the worker still reports the old FAILED state for a
        moment: with ``failed_grace`` seconds, FAILED counts only once the
        grace is over or a status without FAILED has been seen.
        """
        deadline = time.monotonic() + timeout
        grace_ends = time.monotonic() + failed_grace
        moved = False
        last: ConnectorState | None = None
        while time.monotonic() < deadline:
            try:
                last = self.status(name)
            except RetryableError:
                last = None
            if last is not None and last.running:
                return last
            if last is not None and last.has_failure:
                if moved or time.monotonic() >= grace_ends:
                    raise ConnectorError(name, FAILED, last.failure_trace)
            elif last is not None:
                moved = True
            time.sleep(interval)
        state = "unknown" if last is None else last.state
        tasks = "none" if last is None else str([t.state for t in last.tasks])
        reason = f"not RUNNING after {timeout:.0f}s (state={state} tasks={tasks})"
        raise ConnectorError(name, reason, "" if last is None else last.failure_trace)

    # --- lifecycle: validate, pause, resume, restart ----------------------

    def plugins(self) -> list[str]:
        """Class names of the connector plugins the worker has loaded."""
        result = self._check(self._call("GET", "/connector-plugins"), "*")
        return sorted(str(plugin.get("class", "")) for plugin in result)

    def validate(self, config: Mapping[str, str]) -> Validation:
        """Ask the worker's plugin whether ``config`` is valid; nothing is created.

        ``config`` must hold ``connector.class`` and ``name``. The plugin may
        also try the configured database (Debezium logs in to check). Raises
        ConnectorError when the worker lacks the plugin.
        """
        name = config.get("name", "?")
        plugin = config.get("connector.class", "")
        if plugin not in self.plugins():
            reason = f"the worker has no connector plugin {plugin or '(none set)'}"
            raise ConnectorError(name, reason)
        path = f"/connector-plugins/{quote(plugin, safe='')}/config/validate"
        body = self._check(self._call("PUT", path, config), name)
        fields = tuple(
            FieldError(str(value.get("name", "?")), tuple(map(str, errors)))
            for item in body.get("configs", [])
            if (errors := (value := item.get("value", {})).get("errors"))
        )
        return Validation(plugin, int(body.get("error_count", 0)), fields)

    def pause(self, name: str) -> None:
        """Ask the connector and its tasks to pause (they keep their offsets)."""
        self._known(
            self._call("PUT", f"/connectors/{quote(name, safe='')}/pause"), name
        )

    def resume(self, name: str) -> None:
        """Ask a paused connector and its tasks to run again."""
        path = f"/connectors/{quote(name, safe='')}/resume"
        self._known(self._call("PUT", path), name)

    def restart_failed(self, name: str) -> bool:
        """Restart the connector's FAILED instance and tasks, and only those.

        Uses ``POST /connectors/NAME/restart?includeTasks=true&onlyFailed=true``;
        a worker older than Kafka 3.0 ignores those parameters (it answers 204),
        so each FAILED task is then restarted on its own. Returns False when
        the connector's status showed nothing FAILED by the time it answered.
        """
        base = f"/connectors/{quote(name, safe='')}"
        path = f"{base}/restart?includeTasks=true&onlyFailed=true"
        response = self._call("POST", path)
        body = self._known(response, name)
        if response.status_code == 202:
            states = [task.get("state") for task in body.get("tasks", [])]
            return "RESTARTING" in (body.get("connector", {}).get("state"), *states)
        state = self.status(name)
        failed = [] if state is None else state.failed_tasks
        for task in failed:
            self._known(self._call("POST", f"{base}/tasks/{task}/restart"), name)
        return bool(failed)

    def wait_state(
        self, name: str, wanted: str, timeout: float = 60.0, interval: float = 0.5
    ) -> ConnectorState:
        """Block until the connector and every task report ``wanted``.

        Raises ConnectorError (with the last trace) when ``timeout`` runs out.
        """
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.status(name)
            if last is not None and last.all_in(wanted):
                return last
            time.sleep(interval)
        seen = "absent" if last is None else last.summary
        reason = f"not {wanted} after {timeout:.0f}s ({seen})"
        raise ConnectorError(name, reason, "" if last is None else last.failure_trace)

    def wait_gone(
        self, name: str, timeout: float = 60.0, interval: float = 0.5
    ) -> None:
        """Block until the cluster no longer knows the connector (after a delete).

        Raises ConnectorError when it is still there after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status(name) is None:
                return
            time.sleep(interval)
        raise ConnectorError(name, f"still on the cluster after {timeout:.0f}s")

    def _known(self, response: requests.Response, name: str) -> Any:
        if response.status_code == 404:
            raise ConnectorError(name, "unknown to the Connect cluster")
        return self._check(response, name)
