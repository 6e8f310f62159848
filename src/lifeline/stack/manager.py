"""``lifeline stack up | down | status`` across all components."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from lifeline.settings import Settings
from lifeline.stack.base import Component, ComponentStatus, State
from lifeline.stack.broker import Broker
from lifeline.stack.connect import ConnectWorker
from lifeline.stack.mariadb import MariaDB
from lifeline.stack.postgres import Postgres
from lifeline.stack.process import ManagedProcess
from lifeline.stack.redis_server import RedisServer

logger = logging.getLogger(__name__)


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

    @property
    def components(self) -> list[Component]:
        """Every component, in start order."""
        return [*self.independent, self.connect]

    def up(self) -> list[ComponentStatus]:
        """Start what is not running (in parallel where possible) and wait.

        A broker that starts empty (memory storage) has lost every topic, so
        whatever pointed into the old topics is reset: Connect is restarted,
        the connectors' schema history and the dataflows' recovery stores are
        removed. Connectors must then be applied again and re-snapshot.
        """
        broker = self.independent[0]
        fresh_broker = (
            self.settings.broker.managed and broker.status().state is not State.RUNNING
        )
        if fresh_broker:
            self.connect.stop()
            self._stop_flows()
            for name in ("recovery", "connect/history"):
                shutil.rmtree(self.settings.state_path / name, ignore_errors=True)
        self._parallel(lambda component: component.start(), self.independent)
        self.connect.start()
        return self.status()

    def _stop_flows(self) -> None:
        """Stop every dataflow Lifeline started: its offsets point at lost topics."""
        run_dir = self.settings.state_path / "run"
        for pid_file in run_dir.glob("flow-*.pid"):
            ManagedProcess(pid_file.stem, run_dir).terminate(timeout=15)

    def down(self, *, purge: bool = False) -> list[ComponentStatus]:
        """Stop what ``up`` started (and any dataflow); ``purge`` deletes data."""
        self._stop_flows()
        self.connect.stop()
        self._parallel(lambda component: component.stop(), self.independent)
        if purge:
            for name in ("postgres", "mariadb", "redis", "connect", "recovery", "run"):
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
