"""The frame of every chaos scenario: load, fault, then the three checks.

:meth:`Harness.verify` waits (bounded) until the cache equals the truth
derived from the databases, every expected lifecycle event is on the topic,
and the webhook target holds every effect exactly once; it fails with the
remaining problems otherwise. Figures (catch-up times, suppressed repeats)
are printed and appended to ``<state>/chaos/figures.jsonl``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from lifeline.settings import Settings
from tests.chaos.load import Load, reader_for
from tests.chaos.target import PATH, ChaosSaaS
from tests.chaos.truth import (
    EventLog,
    cache_problems,
    effect_problems,
    event_problems,
    expected_records,
    golden_ids,
    scenario_golden_ids,
    settle,
    suppressed_repeats,
)

CACHE_TIMEOUT = 150.0
EVENT_TIMEOUT = 60.0
EFFECT_TIMEOUT = 150.0


@dataclass
class Verdict:
    """What a verified scenario measured."""

    scenario: str
    customers: int
    transactions: int
    events: int
    effects: int
    suppressed: int
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Harness:
    """One stack (settings) and the webhook target its deliveries flow calls."""

    settings: Settings
    target: ChaosSaaS
    # The environment the deliveries flow runs with (its targets file).
    deliveries_env: dict[str, str] = field(default_factory=dict)

    def load(self, scenario: str) -> Load:
        """A new load whose customers are already created and linked."""
        load = Load(self.settings, scenario)
        load.create(reader_for(self.settings))
        return load

    def cache_settled(self, load: Load, timeout: float = CACHE_TIMEOUT) -> list[str]:
        """Wait until the cache equals the truth; the problems left, if any."""
        reader = reader_for(self.settings)
        expected = expected_records(self.settings, load)
        return settle(lambda: cache_problems(reader, load, expected), timeout)

    def verify(self, load: Load, **figures: Any) -> Verdict:
        """Assert cache, events and effects; return what was measured."""
        started = time.monotonic()
        problems = self.cache_settled(load)
        assert not problems, f"cache differs from the databases: {problems}"
        reader = reader_for(self.settings)
        expected = expected_records(self.settings, load)
        records = golden_ids(reader, load)
        log = EventLog(self.settings)
        try:
            problems = settle(
                lambda: event_problems(log.read(), load, records, expected),
                EVENT_TIMEOUT,
            )
            assert not problems, f"lifecycle events missing: {problems}"
            golden = scenario_golden_ids(records)
            problems = settle(
                lambda: effect_problems(log.read(), self.target, golden),
                EFFECT_TIMEOUT,
            )
            assert not problems, f"webhook effects wrong: {problems}"
            events = [e for e in log.events if e.golden_id in golden]
            effects = [
                e for e in self.target.applied(PATH) if e.body["golden_id"] in golden
            ]
        finally:
            log.close()
        verdict = Verdict(
            load.scenario,
            len(load.customers),
            load.transactions,
            len(events),
            len(effects),
            suppressed_repeats(self.target, golden),
            {**figures, "verify_seconds": round(time.monotonic() - started, 1)},
        )
        self._record(verdict)
        return verdict

    def _record(self, verdict: Verdict) -> None:
        line = json.dumps(verdict.__dict__, sort_keys=True)
        print(f"chaos figures: {line}")  # read with pytest -s
        folder = self.settings.state_path / "chaos"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "figures.jsonl").open("a") as out:
            out.write(line + "\n")
