"""``lifeline stack up | down | status`` across all components."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from lifeline.errors import LifelineError, StackStartError
from lifeline.settings import Settings
from lifeline.stack.base import Component, ComponentStatus, State
from lifeline.stack.broker import Broker
from lifeline.stack.connect import ConnectWorker
from lifeline.stack.mariadb import MariaDB
from lifeline.stack.object_store import ObjectStore
from lifeline.stack.postgres import Postgres
from lifeline.stack.process import ManagedProcess
from lifeline.stack.redis_server import RedisServer

logger = logging.getLogger(__name__)

# What ``down(purge=True)`` deletes under the state directory: the servers'
# data, Connect's classpath and schema history, the flows' recovery stores,
# pids and logs, and the webhook replay ledger (``targets/``), whose event
# ids would otherwise make a replay on a fresh stack skip its dead letters.
PURGED = ("postgres", "mariadb", "redis", "connect", "recovery", "run", "targets")


class Stack:
    """The components in start order; Connect comes last as it needs the broker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.independent: list[Component] = [
            Broker(settings),
            Postgres(settings),
            MariaDB(settings),
            RedisServer(settings),
        ]
        self.connect = ConnectWorker(settings)
        # The object store of a broker with s3:// storage starts first.
        self.first: list[Component] = (
            [ObjectStore(settings)] if settings.broker.durable else []
        )

    @property
    def components(self) -> list[Component]:
        """Every component, in start order."""
        return [*self.first, *self.independent, self.connect]

    def up(self) -> list[ComponentStatus]:
        """Start what is not running (in parallel where possible) and wait.

        A broker that starts empty (memory storage, or a managed object store
        that is not running) has lost every topic, so whatever pointed into
        the old topics is reset: Connect is restarted, the connectors' schema
        history and the dataflows' recovery stores are removed. Connectors
        must then be applied again and re-snapshot. A broker restarted on a
        running object store finds its topics and offsets again.

        When a component fails to start, the components this call started
        are stopped again (not those that ran before it, nor servers Lifeline
        does not manage) and StackStartError carries the failure.
        """
        if self._broker_starts_empty():
            self.connect.stop()
            self._stop_flows()
            for name in ("recovery", "connect/history"):
                shutil.rmtree(self.settings.state_path / name, ignore_errors=True)
        running = {part.name for part in self.components if part.pid() is not None}
        try:
            self._start_all()
        except Exception as exc:
            stopped = self._stop_started(running)
            if isinstance(exc, LifelineError):
                raise StackStartError(exc, stopped) from exc
            raise
        return self.status()

    def _start_all(self) -> None:
        for component in self.first:
            component.start()
        self._parallel(lambda component: component.start(), self.independent)
        self.connect.start()

    def _stop_started(self, running: set[str]) -> list[str]:
        """Stop, last first, what runs now but not in ``running``; their names."""
        started = [
            part
            for part in reversed(self.components)
            if part.name not in running and part.pid() is not None
        ]
        for component in started:
            try:
                component.stop()
            except Exception as exc:  # the start's failure is the one to report
                logger.warning(
                    "event=stop_failed component=%s error=%s", component.name, exc
                )
        return [component.name for component in started]

    def _broker_starts_empty(self) -> bool:
        if not self.settings.broker.managed:
            return False
        if self.independent[0].status().state is State.RUNNING:
            return False
        if not self.settings.broker.durable:
            return True
        return self.settings.s3.managed and any(
            store.status().state is not State.RUNNING for store in self.first
        )

    def _stop_flows(self) -> None:
        """Stop every dataflow Lifeline started: its offsets point at lost topics."""
        run_dir = self.settings.state_path / "run"
        for pid_file in run_dir.glob("flow-*.pid"):
            ManagedProcess(pid_file.stem, run_dir).terminate(timeout=15)

    def down(self, *, purge: bool = False) -> list[ComponentStatus]:
        """Stop what ``up`` started (and any dataflow); ``purge`` deletes PURGED."""
        self._stop_flows()
        self.connect.stop()
        self._parallel(lambda component: component.stop(), self.independent)
        for component in self.first:
            component.stop()
        if purge:
            for name in PURGED:
                shutil.rmtree(self.settings.state_path / name, ignore_errors=True)
            logger.info("purged state_dir=%s", self.settings.state_path)
        return self.status()

    def status(self) -> list[ComponentStatus]:
        """Every component's status, without changing anything."""
        return [component.status() for component in self.components]

    @staticmethod
    def _parallel(action: Callable[[Component], None], parts: list[Component]) -> None:
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            futures = [pool.submit(action, part) for part in parts]
            errors = [exc for f in futures if (exc := f.exception()) is not None]
        if errors:
            raise errors[0]
