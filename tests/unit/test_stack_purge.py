"""``lifeline stack down --purge`` on a state directory with nothing running."""

from __future__ import annotations

from pathlib import Path

from lifeline.settings import Settings
from lifeline.stack.manager import Stack
from lifeline.targets.command import LEDGER
from lifeline.targets.replay import SqliteLedger
from tests.ports import free_port


def _settings(state_dir: Path) -> Settings:
    parts = ("broker", "connect", "postgres", "mariadb", "redis")
    return Settings.model_validate(
        {"state_dir": state_dir, **{part: {"port": free_port()} for part in parts}}
    )


def test_purge_deletes_the_replay_ledger(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / LEDGER)
    ledger.record("crm", "event-1")
    ledger.close()
    (tmp_path / "recovery" / "golden").mkdir(parents=True)

    Stack(_settings(tmp_path)).down(purge=True)

    assert not (tmp_path / LEDGER).exists()
    assert not (tmp_path / "targets").exists()
    assert not (tmp_path / "recovery").exists()


def test_down_without_purge_keeps_the_replay_ledger(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / LEDGER)
    ledger.record("crm", "event-1")
    ledger.close()

    Stack(_settings(tmp_path)).down()

    kept = SqliteLedger(tmp_path / LEDGER)
    assert kept.delivered("crm") == {"event-1"}
    kept.close()
