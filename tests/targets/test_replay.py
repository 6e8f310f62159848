"""Replay of dead letters: delivered once, a second replay sends nothing."""

from __future__ import annotations

from pathlib import Path

from lifeline.targets.delivery import Dispatcher
from lifeline.targets.records import MemoryRecords
from lifeline.targets.replay import MemoryLedger, SqliteLedger, replay
from tests.targets.conftest import ENV, config_of, event, target
from tests.targets.fake_saas import Act, FakeSaaS


def dead_letter(saas: FakeSaaS, *acts: Act, events: int = 3) -> MemoryRecords:
    """Run events against a failing /crm; return the dead-letter topic."""
    saas.script("POST", "/crm", *acts)
    config = config_of(target("crm", saas.url("/crm"), limits={"max_in_flight": 1}))
    dead = MemoryRecords()
    with Dispatcher(config, dead, env=ENV) as dispatcher:
        dispatcher.submit([event(f"e{i}", golden_id="g-1") for i in range(events)])
        assert dispatcher.drain(10)
    return dead


def test_replay_delivers_then_a_second_replay_is_a_no_op(saas: FakeSaaS) -> None:
    dead = dead_letter(saas, *[Act(500)] * 4)
    assert [r["reason"] for r in dead.records] == [
        "exhausted",
        "held_behind",
        "held_behind",
    ]
    crm = config_of(target("crm", saas.url("/crm"))).target("crm")
    ledger = MemoryLedger()
    sent_before = len(saas.seen("/crm"))

    first = replay(crm, dead, ledger, env=ENV)
    second = replay(crm, dead, ledger, env=ENV)

    assert (first.found, first.delivered, first.skipped, first.failed) == (3, 3, 0, ())
    assert [e.key for e in saas.applied("/crm")] == ["e0", "e1", "e2"]  # in order
    assert (second.delivered, second.skipped) == (0, 3)
    assert len(saas.seen("/crm")) == sent_before + 3


def test_replay_to_a_target_that_already_has_it_changes_nothing(
    saas: FakeSaaS,
) -> None:
    # The target did the work every time but never said so.
    dead = dead_letter(saas, *[Act(500, apply=True)] * 4, events=1)
    crm = config_of(target("crm", saas.url("/crm"))).target("crm")
    assert len(saas.applied("/crm")) == 1

    report = replay(crm, dead, MemoryLedger(), env=ENV)

    assert report.delivered == 1
    assert [e.key for e in saas.applied("/crm")] == ["e0"]


def test_entries_failing_again_stay_for_the_next_replay(saas: FakeSaaS) -> None:
    dead = dead_letter(saas, *[Act(500)] * 4, events=1)
    crm = config_of(target("crm", saas.url("/crm"))).target("crm")
    ledger = MemoryLedger()
    saas.script("POST", "/crm", Act(400))

    failed = replay(crm, dead, ledger, env=ENV)
    fixed = replay(crm, dead, ledger, env=ENV)

    assert [(f.event_id, f.reason, f.last_error) for f in failed.failed] == [
        ("e0", "permanent", "HTTP 400")
    ]
    assert (fixed.delivered, fixed.failed) == (1, ())
    assert len(dead.records) == 1  # replay failures are not written back


def test_replay_keeps_to_its_target_and_skips_repeats(saas: FakeSaaS) -> None:
    crm = config_of(target("crm", saas.url("/crm"))).target("crm")
    topic = MemoryRecords()
    entry = {"kind": "target_dead_letter", "target": "crm", "event": event("e1")}
    topic.write("g-1", entry)
    topic.write("g-1", entry)
    topic.write("g-1", {**entry, "target": "billing"})
    topic.write("g-1", {"kind": "target_dead_letter", "target": None, "event": {}})
    topic.write("g-1", {**entry, "event": {"event_id": "broken"}})

    report = replay(crm, topic, MemoryLedger(), env=ENV)

    assert (report.found, report.delivered, report.skipped) == (3, 1, 1)
    assert [f.reason for f in report.failed] == ["bad_event"]


def test_sqlite_ledger_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"
    ledger = SqliteLedger(path)
    ledger.record("crm", "e1")
    ledger.record("crm", "e1")
    ledger.record("billing", "e2")
    ledger.close()

    reopened = SqliteLedger(path)
    try:
        assert reopened.delivered("crm") == {"e1"}
        assert reopened.delivered("billing") == {"e2"}
        assert reopened.delivered("support") == set()
    finally:
        reopened.close()
