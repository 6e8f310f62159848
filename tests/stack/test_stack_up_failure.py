"""A ``lifeline stack up`` in which one component fails, on real servers.

The broker runs before the call; PostgreSQL and Redis start in it; MariaDB
fails at once because a program the test holds (a listening socket) has its
port. The call must stop PostgreSQL and Redis again, leave the broker and
the foreign program alone, and exit 2 naming the failure and what it stopped.
"""

from __future__ import annotations

import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.cli import main
from lifeline.settings import Settings
from lifeline.stack.base import State
from lifeline.stack.broker import Broker
from lifeline.stack.manager import Stack
from lifeline.stack.process import port_open
from tests.ports import free_port

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("broker", "connect", "postgres", "mariadb", "redis")


@pytest.fixture
def state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lifeline-up-failure-"))
    # The postgres account must be able to reach its data directory below.
    path.chmod(path.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def settings(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on free ports, also as LIFELINE_* variables for ``main``."""
    monkeypatch.setenv("LIFELINE_STATE_DIR", str(state_dir))
    monkeypatch.setenv("LIFELINE_CONNECTORS_DIR", str(ROOT / "connectors"))
    for part in PARTS:
        monkeypatch.setenv(f"LIFELINE_{part.upper()}__PORT", str(free_port()))
        monkeypatch.setenv(f"LIFELINE_{part.upper()}__MANAGED", "true")
    settings = Settings()
    yield settings
    Stack(settings).down()


@pytest.fixture
def foreign_program(settings: Settings) -> Iterator[socket.socket]:
    """A listener Lifeline did not start, on MariaDB's port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", settings.mariadb.port))
        listener.listen()
        yield listener


def test_a_failed_up_stops_what_it_started_and_nothing_else(
    settings: Settings,
    foreign_program: socket.socket,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broker = Broker(settings)
    broker.start()
    broker_pid = broker.pid()

    code = main(["stack", "up"])

    assert code == 2
    states = {status.name: status.state for status in Stack(settings).status()}
    assert states == {
        "broker": State.RUNNING,
        "postgres": State.STOPPED,
        "mariadb": State.STOPPED,
        "redis": State.STOPPED,
        "connect": State.STOPPED,
    }
    assert broker.pid() == broker_pid
    assert not port_open("127.0.0.1", settings.postgres.port)
    assert not port_open("127.0.0.1", settings.redis.port)
    assert port_open("127.0.0.1", settings.mariadb.port)
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"lifeline stack: mariadb: 127.0.0.1:{settings.mariadb.port}: port in use "
        "by a process Lifeline did not start",
        "stopped what this stack up had started: redis, postgres",
    ]
