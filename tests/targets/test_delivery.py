"""The dispatcher against a real HTTP server: effects, order, isolation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from lifeline.targets.config import TargetsConfig
from lifeline.targets.delivery import Dispatcher
from lifeline.targets.errors import RecordSinkError, TargetConfigError
from lifeline.targets.records import MemoryRecords
from tests.targets.conftest import ENV, TOKEN, config_of, event, refused_url, target
from tests.targets.fake_saas import Act, FakeSaaS


def dispatch(
    config: TargetsConfig, events: list[dict[str, Any]], dead: MemoryRecords
) -> Dispatcher:
    with Dispatcher(config, dead, env=ENV) as dispatcher:
        dispatcher.submit(events)
        assert dispatcher.drain(timeout=20)
    return dispatcher


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.005)


def keys(saas: FakeSaaS, prefix: str) -> list[str]:
    return [effect.key for effect in saas.applied(prefix)]


def test_each_event_takes_effect_once_despite_failures(saas: FakeSaaS) -> None:
    saas.script(
        "POST",
        "/crm",
        Act(500),
        Act(503, apply=True),  # did the work, then failed to say so
        Act(429, retry_after="0"),
        Act(delay=0.5, apply=True),  # past the client's timeout, work done
        Act(delay=0.02, apply=True),  # slow but in time
        Act(502),
    )
    config = config_of(target("crm", saas.url("/crm"), timeout=0.2))
    events = [event(f"e{i}", golden_id=f"g-{i % 3}") for i in range(6)]
    dead = MemoryRecords()

    dispatcher = dispatch(config, events, dead)

    assert sorted(keys(saas, "/crm")) == sorted(e["event_id"] for e in events)
    assert len(saas.seen("/crm")) > len(events)
    assert all(r.signature_ok for r in saas.seen("/crm"))
    assert all(r.authorization == f"Bearer {TOKEN}" for r in saas.seen("/crm"))
    stats = dispatcher.stats()["crm"]
    assert (stats.delivered, stats.dead_lettered) == (6, 0)
    assert stats.retried == stats.failed_attempts == len(saas.seen("/crm")) - 6
    assert dead.records == []


def test_order_is_kept_per_customer(saas: FakeSaaS) -> None:
    saas.script("POST", "/crm", Act(500), Act(delay=0.01, apply=True), Act(503))
    config = config_of(target("crm", saas.url("/crm"), limits={"max_in_flight": 4}))
    events = [event(f"{g}-{n}", golden_id=g) for n in range(5) for g in "abc"]

    dispatch(config, events, MemoryRecords())

    applied = keys(saas, "/crm")
    for customer in "abc":
        assert [k for k in applied if k.startswith(customer)] == [
            f"{customer}-{n}" for n in range(5)
        ]


def test_slow_and_failing_targets_do_not_hold_up_a_healthy_one(
    saas: FakeSaaS,
) -> None:
    gate = saas.gate("/slow")
    config = config_of(
        target("slow", saas.url("/slow")),
        target("down", refused_url("/down"), retry={"max_attempts": 3}),
        target("fast", saas.url("/fast")),
    )
    events = [event(f"e{i}", golden_id=f"g-{i}") for i in range(8)]
    with Dispatcher(config, MemoryRecords(), env=ENV) as dispatcher:
        dispatcher.submit(events)

        assert dispatcher.routes["fast"].pool.queue.wait_idle(10)
        assert len(keys(saas, "/fast")) == 8
        assert saas.applied("/slow") == []
        assert dispatcher.stats()["down"].delivered == 0

        gate.set()
        assert dispatcher.routes["slow"].pool.queue.wait_idle(10)
        assert len(keys(saas, "/slow")) == 8


def test_breaker_opens_then_recovers_through_half_open(saas: FakeSaaS) -> None:
    saas.script("POST", "/crm", Act(500), Act(500), Act(500))
    config = config_of(
        target(
            "crm",
            saas.url("/crm"),
            retry={"max_attempts": 10},
            breaker={"failure_threshold": 3, "open_seconds": 0.3},
            limits={"max_in_flight": 1},
        )
    )
    with Dispatcher(config, MemoryRecords(), env=ENV) as dispatcher:
        dispatcher.submit([event("e1"), event("e2", golden_id="g-2")])
        wait_for(lambda: dispatcher.stats()["crm"].breaker_opened == 1)
        requests_while_open = len(saas.seen("/crm"))
        assert dispatcher.stats()["crm"].breaker_state == "open"
        assert requests_while_open == 3

        assert dispatcher.drain(10)
        stats = dispatcher.stats()["crm"]
    assert stats.breaker_state == "closed"
    assert (stats.breaker_opened, stats.delivered) == (1, 2)
    assert sorted(keys(saas, "/crm")) == ["e1", "e2"]
    assert len(saas.seen("/crm")) == 5


def test_exhausted_delivery_is_dead_lettered_with_what_happened(
    saas: FakeSaaS,
) -> None:
    saas.script("POST", "/crm", *[Act(500)] * 4)
    config = config_of(target("crm", saas.url("/crm"), limits={"max_in_flight": 1}))
    dead = MemoryRecords()

    dispatcher = dispatch(config, [event("e1"), event("e2"), event("e3", "g-2")], dead)

    first, held = dead.records
    assert first["target"] == "crm"
    assert first["event"]["event_id"] == "e1"
    assert (first["attempts"], first["reason"]) == (4, "exhausted")
    assert (first["last_error"], first["last_status"]) == ("HTTP 500", 500)
    assert first["first_attempt_at"] and first["dead_lettered_at"]
    assert (held["event"]["event_id"], held["reason"]) == ("e2", "held_behind")
    assert held["attempts"] == 0
    assert keys(saas, "/crm") == ["e3"]
    assert dispatcher.stats()["crm"].dead_lettered == 2


def test_client_error_is_permanent(saas: FakeSaaS) -> None:
    saas.script("POST", "/crm", Act(400))
    dead = MemoryRecords()

    dispatch(config_of(target("crm", saas.url("/crm"))), [event("e1")], dead)

    (record,) = dead.records
    assert (record["reason"], record["attempts"], record["last_status"]) == (
        "permanent",
        1,
        400,
    )


def test_conflict_echoing_our_key_counts_as_delivered(saas: FakeSaaS) -> None:
    saas.duplicate_status = 409
    config = config_of(target("crm", saas.url("/crm")))
    dead = MemoryRecords()

    dispatch(config, [event("e1")], dead)
    again = dispatch(config, [event("e1")], dead)

    assert keys(saas, "/crm") == ["e1"]
    assert (again.stats()["crm"].delivered, again.stats()["crm"].duplicates) == (1, 1)
    assert dead.records == []


@pytest.mark.parametrize(
    "act",
    [
        Act(429, retry_after="0"),
        Act(503, retry_after="3600"),  # capped by retry_after_cap (50 ms)
        Act(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),  # in the past
    ],
)
def test_retry_after_replaces_the_backoff(saas: FakeSaaS, act: Act) -> None:
    # A backoff of 5 s would pass the 1 s deadline: only Retry-After fits.
    slow_backoff = {"base_delay": 5, "max_delay": 5, "jitter": 0, "deadline": 1}
    saas.script("POST", "/crm", act)
    config = config_of(target("crm", saas.url("/crm"), retry=slow_backoff))
    dead = MemoryRecords()

    dispatch(config, [event("e1")], dead)

    assert keys(saas, "/crm") == ["e1"]
    assert dead.records == []


def test_backoff_past_the_deadline_dead_letters_at_once(saas: FakeSaaS) -> None:
    slow_backoff = {"base_delay": 5, "max_delay": 5, "jitter": 0, "deadline": 1}
    saas.script("POST", "/crm", Act(500))
    config = config_of(target("crm", saas.url("/crm"), retry=slow_backoff))
    dead = MemoryRecords()

    dispatch(config, [event("e1")], dead)

    (record,) = dead.records
    assert (record["reason"], record["attempts"]) == ("deadline", 1)


def test_too_many_requests_does_not_trip_the_breaker(saas: FakeSaaS) -> None:
    saas.script("POST", "/crm", *[Act(429, retry_after="0")] * 3)
    config = config_of(
        target("crm", saas.url("/crm"), breaker={"failure_threshold": 1})
    )

    dispatcher = dispatch(config, [event("e1")], MemoryRecords())

    assert dispatcher.stats()["crm"].breaker_opened == 0
    assert keys(saas, "/crm") == ["e1"]


def test_payload_mapping_and_url_template(saas: FakeSaaS) -> None:
    mapping = {
        "customer": "golden_id",
        "contact.email_hash": "payload.email_hash",
        "plan": {"path": "payload.plan", "default": "free"},
        "source": {"const": "lifeline"},
    }
    config = config_of(
        target("crm", saas.url("/crm/{golden_id}"), method="PUT", payload=mapping)
    )

    dispatch(config, [event("e1", golden_id="g/1")], MemoryRecords())

    (effect,) = saas.applied("/crm", method="PUT")
    assert effect.path == "/crm/g%2F1"
    assert effect.body == {
        "customer": "g/1",
        "contact": {"email_hash": "h"},
        "plan": "free",
        "source": "lifeline",
    }


def test_only_subscribed_event_types_are_delivered(saas: FakeSaaS) -> None:
    config = config_of(target("crm", saas.url("/crm")))
    events = [event("e1"), event("e2", event_type="invoice.paid")]

    dispatcher = dispatch(config, events, MemoryRecords())

    assert keys(saas, "/crm") == ["e1"]
    assert dispatcher.stats()["crm"].delivered == 1


def test_wrong_secret_is_refused_and_dead_lettered(saas: FakeSaaS) -> None:
    config = config_of(target("crm", saas.url("/crm")))
    dead = MemoryRecords()
    env = {**ENV, "HOOK_SECRET": "not-the-secret"}

    with Dispatcher(config, dead, env=env) as dispatcher:
        dispatcher.submit([event("e1")])
        assert dispatcher.drain(10)

    assert saas.applied("/crm") == []
    assert [r.signature_ok for r in saas.seen("/crm")] == [False]
    assert dead.records[0]["last_status"] == 401


def test_missing_credential_names_the_variable(saas: FakeSaaS) -> None:
    config = config_of(target("crm", saas.url("/crm")))

    with pytest.raises(TargetConfigError, match=r"target crm.*HOOK_TOKEN"):
        Dispatcher(config, MemoryRecords(), env={"HOOK_SECRET": "x"})


def test_bad_event_is_dead_lettered_without_a_target(saas: FakeSaaS) -> None:
    config = config_of(target("crm", saas.url("/crm")))
    dead = MemoryRecords()

    dispatch(config, [{"event_id": "e1", "event_type": "customer.updated"}], dead)

    (record,) = dead.records
    assert (record["target"], record["reason"]) == (None, "bad_event")
    assert "golden_id" in record["last_error"]
    assert saas.seen("/crm") == []


def test_full_queue_dead_letters_the_overflow(saas: FakeSaaS) -> None:
    gate = saas.gate("/crm")
    limits = {"max_in_flight": 1, "max_queue": 1}
    config = config_of(target("crm", saas.url("/crm"), limits=limits))
    dead = MemoryRecords()
    with Dispatcher(config, dead, env=ENV) as dispatcher:
        dispatcher.submit([event("e1", "g-1")])
        wait_for(lambda: len(saas.seen("/crm")) == 1)
        assert dispatcher.submit([event("e2", "g-2"), event("e3", "g-3")]) == 1
        gate.set()
        assert dispatcher.drain(10)

    assert [(r["event"]["event_id"], r["reason"]) for r in dead.records] == [
        ("e3", "overflow")
    ]
    assert sorted(keys(saas, "/crm")) == ["e1", "e2"]


def test_close_dead_letters_what_did_not_end(saas: FakeSaaS) -> None:
    saas.gate("/crm")
    config = config_of(
        target("crm", saas.url("/crm"), timeout=0.2, limits={"max_in_flight": 1})
    )
    dead = MemoryRecords()
    dispatcher = Dispatcher(config, dead, env=ENV)
    dispatcher.start()
    dispatcher.submit([event("e1", "g-1"), event("e2", "g-2")])
    wait_for(lambda: len(saas.seen("/crm")) >= 1)

    dispatcher.close(timeout=0.05)

    reasons = {r["event"]["event_id"]: r["reason"] for r in dead.records}
    assert reasons == {"e1": "shutdown", "e2": "shutdown"}


class RefusingTopic:
    def write(self, key: str, record: Any) -> None:
        raise RecordSinkError("topic t: record not acknowledged: no ack in 0s")


def test_a_refused_dead_letter_is_counted_as_lost(saas: FakeSaaS) -> None:
    saas.script("POST", "/crm", Act(400))
    config = config_of(target("crm", saas.url("/crm")))

    with Dispatcher(config, RefusingTopic(), env=ENV) as dispatcher:
        dispatcher.submit([event("e1")])
        assert dispatcher.drain(10)
        stats = dispatcher.stats()["crm"]

    assert (stats.lost, stats.dead_lettered, stats.delivered) == (1, 0, 0)


def test_sagas_need_an_exception_writer(saas: FakeSaaS) -> None:
    step = {"name": "a", "url": saas.url("/a"), "hmac_secret_env": "HOOK_SECRET"}
    saga = {"name": "onboarding", "events": ["customer.onboarded"], "steps": [step]}

    with pytest.raises(TargetConfigError, match="saga onboarding"):
        Dispatcher(config_of(sagas=[saga]), MemoryRecords(), env=ENV)
