"""``lifeline flow start`` of a flow that dies while starting, on a real broker.

The module starts its own tansu on a free port with a temporary state
directory and the CDC topics, and stops it when it ends. The skeleton flow
then dies at once because its metrics port is taken (by the test).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.capture.catalog import cdc_topics
from lifeline.cli import main
from lifeline.settings import Settings
from lifeline.stack.broker import Broker, create_topics
from tests.ports import free_port

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def broker_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {
        "LIFELINE_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "LIFELINE_CONNECTORS_DIR": str(ROOT / "connectors"),
        "LIFELINE_BROKER__PORT": str(free_port()),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = Settings()
    broker = Broker(settings)
    try:
        broker.start()
        create_topics(settings, cdc_topics(settings))
        yield env
    finally:
        broker.stop()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_flow_dying_at_start_is_one_line_with_its_cause_and_log(
    broker_env: dict[str, str],
    taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in broker_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LIFELINE_METRICS__PORT", str(taken_port))
    monkeypatch.chdir(ROOT)

    code = main(["flow", "start", "--name", "skeleton"])

    err = capsys.readouterr().err
    log = Path(broker_env["LIFELINE_STATE_DIR"]) / "run" / "flow-skeleton.log"
    assert code == 2
    assert err.splitlines() == [
        "lifeline flow: flow skeleton: exited during start: FatalError: flow "
        f"skeleton: cannot serve metrics on 127.0.0.1:{taken_port} ([Errno 98] "
        "Address already in use); set LIFELINE_METRICS__PORT to a free base "
        "port, or 0 to turn metrics off",
        f"  log: {log}",
    ]
    assert "Traceback" in log.read_text()
