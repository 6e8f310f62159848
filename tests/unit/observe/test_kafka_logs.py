"""The CLI reports an unreachable broker in one line, without librdkafka's logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.cli import main
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[3]


def test_audit_with_the_broker_down_prints_one_error_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LIFELINE_STATE_DIR", str(tmp_path / "state"))
    broker = free_port()
    monkeypatch.setenv("LIFELINE_BROKER__PORT", str(broker))
    monkeypatch.setenv("LIFELINE_REDIS__PORT", str(free_port()))

    assert main(["audit", "g-0123456789abcdef"]) == 2

    err = capfd.readouterr().err  # file-descriptor level: librdkafka's too
    assert "rdkafka" not in err
    assert f"127.0.0.1:{broker}" not in err  # no connection attempt logged
    errors = [line for line in err.splitlines() if line.startswith("lifeline audit:")]
    assert len(errors) == 1
    assert "cannot read" in errors[0]
