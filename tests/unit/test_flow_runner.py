"""How ``lifeline flow start`` runs a dataflow: recovery on by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lifeline.flows.runner import FlowProcess
from lifeline.settings import FlowSettings, Settings


def _argv(settings: Settings, **kwargs: object) -> list[str]:
    return FlowProcess(settings, "golden", **kwargs)._argv()  # type: ignore[arg-type]


def test_recovery_is_on_by_default_with_its_store_under_state(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    argv = _argv(settings)
    store = argv[argv.index("-r") + 1]
    assert Path(store) == tmp_path.resolve() / "recovery" / "golden"
    assert argv[argv.index("-s") + 1] == "5"
    assert argv[argv.index("-b") + 1] == "0"


def test_the_snapshot_interval_is_a_setting(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, flows=FlowSettings(snapshot_interval=2))
    argv = _argv(settings)
    assert argv[argv.index("-s") + 1] == "2"
    assert _argv(settings, snapshot_interval=9)[argv.index("-s") + 1] == "9"


def test_without_recovery_no_store_is_named(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, flows=FlowSettings(recovery=False))
    argv = _argv(settings)
    assert "-r" not in argv
    assert "-b" not in argv
    assert argv[argv.index("-s") + 1] == "5"  # the epoch length then


@pytest.mark.parametrize("interval", [0, -1, 3601])
def test_a_snapshot_interval_out_of_range_is_refused(interval: int) -> None:
    with pytest.raises(ValidationError, match="snapshot_interval"):
        FlowSettings(snapshot_interval=interval)


def test_the_flow_gets_the_extra_environment(tmp_path: Path) -> None:
    flow = FlowProcess(
        Settings(state_dir=tmp_path), "deliveries", env={"LIFELINE_X": "1"}
    )
    assert flow.env == {"LIFELINE_X": "1"}
