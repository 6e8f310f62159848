"""Processes the bench starts: flows and contenders, with CPU and memory from /proc.

Each runs in its own session under ``state/bench/run`` (pid file and log), so
stopping it (or ``kill -9`` for the recovery part) reaches exactly the
processes the bench started.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import requests

from bench.stack import STATE
from lifeline.flows.runner import RECOVERY_PARTITIONS, FlowProcess
from lifeline.settings import Settings
from lifeline.stack.process import ManagedProcess

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class Proc:
    """One process started by the bench."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env or {}
        self.metrics_port = metrics_port
        self.managed = ManagedProcess(name, STATE / "run")
        self.pid = 0

    def start(self) -> None:
        """Spawn it in a new session, logging to ``state/bench/run/<name>.log``."""
        self.pid = self.managed.spawn(self.argv, env=self.env)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.managed.pid() is not None

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far (0 when gone)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1]
        except OSError:
            return 0.0
        parts = fields.split()
        return (int(parts[11]) + int(parts[12])) / _TICKS

    def memory(self) -> tuple[int, int]:
        """(resident bytes now, peak resident bytes), 0 when gone."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0, 0
        values = {}
        for line in status.splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) * 1024
        return values.get("VmRSS", 0), values.get("VmHWM", 0)

    def changes_decoded(self) -> int:
        """Change events its flow decoded so far (its ``/metrics``); 0 if none."""
        if self.metrics_port is None:
            return 0
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        try:
            text = requests.get(url, timeout=1.0).text
        except requests.RequestException:
            return 0
        return int(
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("lifeline_changes_total{")
            )
        )

    def kill9(self) -> None:
        """SIGKILL the process (and its session), as a crash would."""
        os.killpg(self.pid, signal.SIGKILL)
        self.managed.pid_file.unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; a no-op when it is gone."""
        self.managed.terminate(timeout=10)

    def log_tail(self) -> str:
        """The end of its log, for error messages."""
        return self.managed.log_tail(20)


def raw_proc() -> Proc:
    """The raw ceiling loop."""
    return Proc("bench-raw", [sys.executable, "-m", "bench.contenders", "raw"])


def naive_proc() -> Proc:
    """The per-message Bytewax flow."""
    argv = [sys.executable, "-m", "bytewax.run", "bench.contenders:naive_flow()"]
    return Proc("bench-naive", argv)


def golden_procs(
    settings: Settings, processes: int, ports: list[int], *, fresh: bool = True
) -> list[Proc]:
    """The real golden flow (``dataflows/golden.py``) as ``processes`` workers.

    One worker is what ``lifeline flow start --name golden`` runs; more are a
    Bytewax cluster of one-worker processes on ``ports``. Recovery is on, with
    the runner's snapshot interval, in a new directory when ``fresh`` (else
    the flow resumes from the last snapshot there).
    """
    runner = FlowProcess(settings, "golden")
    if fresh:
        fresh_recovery(runner.recovery_dir)
    argv = [
        sys.executable,
        "-m",
        "bytewax.run",
        f"{runner.flow_file}:flow",
        "-r",
        str(runner.recovery_dir),
        "-s",
        str(runner.snapshot_interval),
        "-b",
        "0",
    ]
    if processes == 1:
        return [_golden("flow-golden", [*argv, "-w", "1"])]
    addresses = ";".join(f"127.0.0.1:{port}" for port in ports[:processes])
    return [
        _golden(f"flow-golden-{i}", [*argv, "-i", str(i), "-a", addresses])
        for i in range(processes)
    ]


def _golden(name: str, argv: list[str]) -> Proc:
    """A golden flow process serving its metrics on a free port."""
    from tests.ports import free_port

    from lifeline.settings import FLOW_METRICS_OFFSETS

    port = free_port()
    base = port - FLOW_METRICS_OFFSETS["golden"]
    return Proc(name, argv, {"LIFELINE_METRICS__PORT": str(base)}, port)


def fresh_recovery(directory: Path) -> None:
    """An empty, initialised Bytewax recovery directory."""
    from bytewax.recovery import init_db_dir

    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    init_db_dir(directory, RECOVERY_PARTITIONS)  # type: ignore[no-untyped-call]
