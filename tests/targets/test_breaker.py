"""The circuit breaker on a fake clock."""

from __future__ import annotations

from lifeline.targets.breaker import CircuitBreaker
from lifeline.targets.config import BreakerPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, probes: int = 1) -> CircuitBreaker:
    policy = BreakerPolicy(
        failure_threshold=3, open_seconds=10, half_open_probes=probes
    )
    return CircuitBreaker("crm", policy, clock)


def test_opens_after_threshold_failures_in_a_row() -> None:
    clock = Clock()
    cb = breaker(clock)
    cb.failure()
    cb.failure()
    cb.success()  # resets the run
    cb.failure()
    cb.failure()
    assert cb.state.value == "closed"
    assert cb.acquire() == 0.0

    cb.failure()

    assert cb.state.value == "open"
    assert cb.acquire() == 10.0
    clock.now += 4
    assert cb.acquire() == 6.0
    assert cb.times_opened == 1


def test_half_open_probe_success_closes() -> None:
    clock = Clock()
    cb = breaker(clock)
    for _ in range(3):
        cb.failure()
    clock.now += 10

    assert cb.state.value == "half_open"
    assert cb.acquire() == 0.0  # the probe
    assert cb.acquire() > 0.0  # everyone else waits for it
    cb.success()

    assert cb.state.value == "closed"
    assert cb.acquire() == 0.0
    assert (cb.times_opened, cb.times_closed) == (1, 1)


def test_half_open_probe_failure_opens_again() -> None:
    clock = Clock()
    cb = breaker(clock)
    for _ in range(3):
        cb.failure()
    clock.now += 10
    assert cb.acquire() == 0.0

    cb.failure()

    assert cb.state.value == "open"
    assert cb.acquire() == 10.0
    assert cb.times_opened == 2


def test_several_probes_must_all_succeed() -> None:
    clock = Clock()
    cb = breaker(clock, probes=2)
    for _ in range(3):
        cb.failure()
    clock.now += 10
    assert cb.acquire() == 0.0
    assert cb.acquire() == 0.0
    assert cb.acquire() > 0.0

    cb.success()
    assert cb.state.value == "half_open"
    cb.success()
    assert cb.state.value == "closed"


def test_a_neutral_answer_frees_the_probe_slot() -> None:
    clock = Clock()
    cb = breaker(clock)
    for _ in range(3):
        cb.failure()
    clock.now += 10
    assert cb.acquire() == 0.0

    cb.release()

    assert cb.state.value == "half_open"
    assert cb.acquire() == 0.0


def test_late_results_while_open_are_ignored() -> None:
    clock = Clock()
    cb = breaker(clock)
    for _ in range(3):
        cb.failure()
    cb.success()
    cb.failure()
    assert cb.state.value == "open"
    assert cb.times_opened == 1
