"""The bench's own stack: Lifeline's components on free ports, state in state/bench.

Settings reach every process the bench starts (flows, contenders) through
``LIFELINE_*`` environment variables, as the test fixture does. Components
start on demand (the throughput parts need only the broker and Redis) and
``close`` stops every one that was started, with its data.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path

from tests.ports import free_port

from lifeline.settings import Settings
from lifeline.stack.base import Component
from lifeline.stack.broker import Broker, create_topics
from lifeline.stack.connect import ConnectWorker
from lifeline.stack.mariadb import MariaDB
from lifeline.stack.postgres import Postgres
from lifeline.stack.process import ManagedProcess
from lifeline.stack.redis_server import RedisServer

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "state" / "bench"
PREFIX = "llbench"
_PORTS = ("broker", "connect", "postgres", "mariadb", "redis")  # component names


def reserve_ports() -> dict[str, socket.socket]:
    """A distinct free port per component, each held by a bound socket.

    A component may start minutes after its port was chosen; until then the
    bound socket keeps the port from other programs and from the kernel's
    choice of a client connection's local port.
    """
    held: dict[str, socket.socket] = {}
    while len(held) < len(_PORTS):
        port = free_port()
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        held[_PORTS[len(held)]] = sock
    return held


def bench_env(ports: dict[str, int], partitions: int) -> dict[str, str]:
    """``LIFELINE_*`` variables of the bench stack on ``ports``."""
    env = {
        "LIFELINE_STATE_DIR": str(STATE),
        "LIFELINE_CONNECTORS_DIR": str(ROOT / "connectors"),
        "LIFELINE_CONNECT__GROUP_ID": "lifeline-connect-bench",
        "LIFELINE_CACHE_PREFIX": PREFIX,
        "LIFELINE_TOPICS__PARTITIONS": str(partitions),
    }
    for name, port in ports.items():
        # Its own servers, whatever the environment or a .env file says.
        env[f"LIFELINE_{name.upper()}__PORT"] = str(port)
        env[f"LIFELINE_{name.upper()}__HOST"] = "127.0.0.1"
        env[f"LIFELINE_{name.upper()}__MANAGED"] = "true"
    return env


def _refuse_if_running() -> None:
    """Exit when another bench run still has processes under state/bench."""
    run_dir = STATE / "run"
    for pid_file in run_dir.glob("*.pid"):
        if ManagedProcess(pid_file.stem, run_dir).pid() is not None:
            msg = f"another bench run is using {STATE} ({pid_file.stem} runs)"
            raise SystemExit(msg)


class BenchStack:
    """Starts components when a part needs them; ``close`` stops them all."""

    def __init__(self, partitions: int) -> None:
        _refuse_if_running()
        shutil.rmtree(STATE, ignore_errors=True)
        self._held = reserve_ports()
        ports = {name: sock.getsockname()[1] for name, sock in self._held.items()}
        for name in [n for n in os.environ if n.startswith("LIFELINE_")]:
            del os.environ[name]  # settings of another stack, not the bench's
        os.environ.update(bench_env(ports, partitions))
        os.chdir(ROOT)
        self.settings = Settings()
        self.broker = Broker(self.settings)
        self.redis = RedisServer(self.settings)
        self.postgres = Postgres(self.settings)
        self.mariadb = MariaDB(self.settings)
        self.connect = ConnectWorker(self.settings)
        self._started: list[Component] = []

    def need(self, *components: Component) -> None:
        """Start the components not started yet, in the order given."""
        for component in components:
            if component not in self._started:
                self._started.append(component)
                self._release(component.name)
                component.start()

    def _release(self, name: str) -> None:
        held = self._held.pop(name, None)
        if held is not None:
            held.close()

    def started(self, component: Component) -> bool:
        """True when this stack started ``component``."""
        return component in self._started

    def restart_broker(self) -> None:
        """A new, empty broker (memory storage): every topic is gone."""
        self.broker.stop()
        self.broker.start()

    def create_topics(self, names: list[str], partitions: int) -> None:
        """Create ``names`` with ``partitions`` partitions each."""
        create_topics(self.settings, names, partitions=partitions)

    def close(self) -> None:
        """Stop the bench's flows, then what was started (Connect first), and
        delete the bench state."""
        run_dir = self.settings.state_path / "run"
        for pid_file in run_dir.glob("*.pid"):
            if pid_file.stem.startswith(("flow-", "bench-")):
                ManagedProcess(pid_file.stem, run_dir).terminate(timeout=10)
        for component in sorted(self._started, key=lambda c: c is not self.connect):
            try:
                component.stop()
            except Exception:  # stop the others whatever happens
                logger.exception("stop failed component=%s", component.name)
        self._started.clear()
        for held in self._held.values():
            held.close()
        shutil.rmtree(STATE, ignore_errors=True)
