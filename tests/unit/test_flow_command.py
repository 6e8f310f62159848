"""``lifeline flow stop / status``: every flow unless one is named, known names only.

Nothing needs the stack: a ``sleep`` process stands in for a running flow, as
the runner only knows flows by their pid files under ``state/run``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.cli import main
from lifeline.stack.process import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ["deliveries", "golden", "skeleton"]


@pytest.fixture
def run_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LIFELINE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state" / "run"


@pytest.fixture
def golden_running(run_dir: Path) -> Iterator[ManagedProcess]:
    process = ManagedProcess("flow-golden", run_dir)
    process.spawn(["sleep", "60"])
    try:
        yield process
    finally:
        process.terminate(timeout=5)


def _rows(out: str) -> dict[str, str]:
    """Each table row's state by component name (the header and rule left out)."""
    return {line.split()[0]: line.split()[1] for line in out.splitlines()[2:]}


def test_status_without_a_name_shows_every_flow(
    golden_running: ManagedProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flow", "status"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert list(rows) == [f"flow:{name}" for name in FLOWS]
    assert rows["flow:golden"] == "running"
    assert rows["flow:skeleton"] == "stopped"


def test_status_with_a_name_shows_that_flow(
    golden_running: ManagedProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flow", "status", "--name", "golden"]) == 0
    assert _rows(capsys.readouterr().out) == {"flow:golden": "running"}


def test_stop_without_a_name_stops_every_running_flow(
    golden_running: ManagedProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flow", "stop"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows == {f"flow:{name}": "stopped" for name in FLOWS}
    assert golden_running.pid() is None


@pytest.mark.parametrize("action", ["start", "stop", "status"])
def test_an_unknown_flow_is_an_error_naming_the_known_ones(
    run_dir: Path, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flow", action, "--name", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "lifeline flow: no flow 'nope' in dataflows/; "
        "the flows are deliveries, golden, skeleton\n"
    )
    assert not run_dir.exists()
