"""Run a dataflow of ``dataflows/`` in the background, with recovery on.

Recovery is on unless ``settings.flows.recovery`` is false. Stores live under
``state/recovery/<flow>``; they are created on the first start, and the flow
snapshots its state and input offsets every ``settings.flows.snapshot_interval``
seconds. A restart (also after kill -9) resumes from the last snapshot:
records read after it are read again, and the version-guarded state and
idempotent cache writes make that harmless (docs/streaming-engineers.md).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from lifeline.errors import ComponentError
from lifeline.flows.failure import failure_cause
from lifeline.observe.logs import kafka_logging
from lifeline.settings import Settings
from lifeline.stack.base import ComponentStatus, State
from lifeline.stack.process import ManagedProcess

logger = logging.getLogger(__name__)

RECOVERY_PARTITIONS = 1
# Enough of a dead flow's log for its last traceback, logged as one line.
_LOG_BYTES = 256 * 1024


class FlowProcess:
    """One dataflow process (``bytewax.run``) started by Lifeline."""

    def __init__(
        self,
        settings: Settings,
        flow: str = "skeleton",
        *,
        workers: int = 1,
        snapshot_interval: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``env`` adds variables to the flow's environment (e.g. LIFELINE_*)."""
        self.settings = settings
        self.flow = flow
        self.workers = workers
        self.recovery = settings.flows.recovery
        self.snapshot_interval = (
            settings.flows.snapshot_interval
            if snapshot_interval is None
            else snapshot_interval
        )
        self.env = dict(env or {})
        self.process = ManagedProcess(f"flow-{flow}", settings.state_path / "run")
        self.recovery_dir = settings.state_path / "recovery" / flow

    @property
    def flow_file(self) -> Path:
        """The flow module, ``dataflows/<flow>.py``."""
        return Path("dataflows", f"{self.flow}.py").resolve()

    def start(self, settle: float = 3.0) -> int:
        """Start the flow unless it runs; fail if it exits within ``settle`` s."""
        pid = self.process.pid()
        if pid is not None:
            return pid
        if not self.flow_file.is_file():
            raise ComponentError(self.process.name, f"no flow file {self.flow_file}")
        self._check_topics()
        if self.recovery:
            self._init_recovery()
        pid = self.process.spawn(self._argv(), env=self.env)
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            if self.process.pid() is None:
                raise self._start_failure()
            time.sleep(0.2)
        logger.info(
            "flow started flow=%s pid=%d workers=%d recovery=%s",
            self.flow,
            pid,
            self.workers,
            self.recovery_dir if self.recovery else "off",
        )
        return pid

    def _start_failure(self) -> ComponentError:
        """The flow died while starting: its log's cause and the log's path."""
        try:
            log = self.process.log_file.read_bytes()[-_LOG_BYTES:]
        except FileNotFoundError:
            log = b""
        cause = failure_cause(log.decode("utf-8", "replace")) or "no error logged"
        reason = f"exited during start: {cause}\n  log: {self.process.log_file}"
        return ComponentError(f"flow {self.flow}", reason)

    def _argv(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "bytewax.run",
            f"{self.flow_file}:flow",
            "-w",
            str(self.workers),
            "-s",
            str(self.snapshot_interval),
        ]
        if self.recovery:
            argv += ["-r", str(self.recovery_dir), "-b", "0"]
        return argv

    def _check_topics(self) -> None:
        """Fail fast, before spawning, when the broker or a CDC topic is missing."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        from lifeline.capture.catalog import cdc_topics

        broker = self.settings.broker
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": broker.bootstrap_servers,
            **broker.client_config,
        }
        try:
            existing = AdminClient(kafka_logging(config)).list_topics(timeout=5).topics
        except KafkaException as exc:
            reason = f"broker {config['bootstrap.servers']} is not reachable: {exc}"
            raise ComponentError(self.process.name, reason) from exc
        missing = [t for t in cdc_topics(self.settings) if t not in existing]
        if missing:
            reason = (
                f"CDC topics missing ({', '.join(missing)}); "
                "run `lifeline connectors apply` first"
            )
            raise ComponentError(self.process.name, reason)

    def _init_recovery(self) -> None:
        if any(self.recovery_dir.glob("part-*.sqlite3")):
            return
        from bytewax.recovery import init_db_dir

        self.recovery_dir.mkdir(parents=True, exist_ok=True)
        init_db_dir(self.recovery_dir, RECOVERY_PARTITIONS)  # type: ignore[no-untyped-call]
        logger.info("recovery initialised dir=%s", self.recovery_dir)

    def stop(self) -> bool:
        """Stop the flow if Lifeline started it."""
        return self.process.terminate(timeout=15)

    def status(self) -> ComponentStatus:
        """Running or stopped, with pid and start time."""
        pid = self.process.pid()
        started: datetime | None = self.process.started_at()
        state = State.RUNNING if pid is not None else State.STOPPED
        detail = ""
        if self.process.exited():
            state = State.UNHEALTHY
            detail = f"exited; see {self.process.log_file}"
        return ComponentStatus(
            f"flow:{self.flow}", state, self.flow_file.name, pid, started, detail
        )
