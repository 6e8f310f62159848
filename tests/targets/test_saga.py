"""The onboarding saga: steps in order, compensation, the exception queue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lifeline.targets.config import parse_targets
from lifeline.targets.delivery import Dispatcher
from lifeline.targets.model import Delivery
from lifeline.targets.records import MemoryRecords
from lifeline.targets.saga import CaseStatus, SagaRunner
from tests.targets.conftest import ENV, FAST_BREAKER, FAST_RETRY, event
from tests.targets.fake_saas import Act, FakeSaaS


def step(saas: FakeSaaS, name: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "url": saas.url(path),
        "hmac_secret_env": "HOOK_SECRET",
        "timeout": 1.0,
        "retry": FAST_RETRY,
        "breaker": FAST_BREAKER,
        **extra,
    }


def onboarding(saas: FakeSaaS, crm_undo: bool = True) -> dict[str, Any]:
    crm_compensation = {"url": saas.url("/crm/accounts/{steps.crm.response.id}")}
    billing_compensation = {
        "url": saas.url("/billing/customers/{steps.billing.response.id}")
    }
    crm_payload = {"customer": "golden_id", "email_hash": "payload.email_hash"}
    billing_payload = {"crm_account": "steps.crm.response.id", "customer": "golden_id"}
    support_payload = {"crm_account": "steps.crm.response.id", "plan": {"const": "std"}}
    return {
        "sagas": [
            {
                "name": "onboarding",
                "events": ["customer.onboarded"],
                "steps": [
                    step(saas, "crm", "/crm/accounts", payload=crm_payload,
                         **({"compensation": crm_compensation} if crm_undo else {})),
                    step(saas, "billing", "/billing/customers",
                         payload=billing_payload, compensation=billing_compensation),
                    step(saas, "support", "/support/entitlements",
                         payload=support_payload),
                ],
            }
        ]
    }  # fmt: skip


Runner = Callable[..., SagaRunner]


@pytest.fixture
def runner(saas: FakeSaaS) -> Iterator[Runner]:
    """Build the onboarding saga's runner (not started: run() is synchronous)."""
    built: list[Dispatcher] = []

    def build(exceptions: MemoryRecords, **kw: Any) -> SagaRunner:
        config = parse_targets(onboarding(saas, **kw))
        built.append(Dispatcher(config, MemoryRecords(), exceptions, env=ENV))
        saga = built[-1].routes["onboarding"]
        assert isinstance(saga, SagaRunner)
        return saga

    yield build
    for dispatcher in built:
        dispatcher.close()


def case(event_id: str = "c1") -> Delivery:
    return Delivery.from_mapping(event(event_id, event_type="customer.onboarded"))


def test_a_case_runs_every_step_once_in_order(saas: FakeSaaS) -> None:
    saas.script("POST", "/billing", Act(503, apply=True))  # retried, applied once
    config = parse_targets(onboarding(saas))
    exceptions = MemoryRecords()

    with Dispatcher(config, MemoryRecords(), exceptions, env=ENV) as dispatcher:
        dispatcher.submit([event("c1", event_type="customer.onboarded")])
        assert dispatcher.drain(10)
        stats = dispatcher.stats()["onboarding"]

    (crm,) = saas.applied("/crm")
    (billing,) = saas.applied("/billing")
    (support,) = saas.applied("/support")
    assert [crm.key, billing.key, support.key] == ["c1:crm", "c1:billing", "c1:support"]
    assert billing.body == {"crm_account": crm.response["id"], "customer": "g-1"}
    assert support.body == {"crm_account": crm.response["id"], "plan": "std"}
    assert (stats.completed, stats.compensated, stats.exceptions) == (1, 0, 0)
    assert exceptions.records == []


def test_a_later_step_failing_undoes_the_earlier_ones(
    saas: FakeSaaS, runner: Runner
) -> None:
    saas.script("POST", "/support", Act(400))
    exceptions = MemoryRecords()

    outcome = runner(exceptions).run(case())

    assert outcome.status is CaseStatus.COMPENSATED
    assert outcome.compensated == ("billing", "crm")
    deletes = saas.applied("/", method="DELETE")
    (crm,) = saas.applied("/crm")
    (billing,) = saas.applied("/billing")
    assert [d.path for d in deletes] == [
        f"/billing/customers/{billing.response['id']}",
        f"/crm/accounts/{crm.response['id']}",
    ]
    assert [d.key for d in deletes] == ["c1:billing:compensate", "c1:crm:compensate"]
    assert exceptions.records == []


def test_a_failed_compensation_sends_the_case_to_the_exception_queue(
    saas: FakeSaaS, runner: Runner
) -> None:
    saas.script("POST", "/support", *[Act(500)] * 4)
    saas.script("DELETE", "/billing", *[Act(500)] * 4)
    exceptions = MemoryRecords()

    outcome = runner(exceptions).run(case())

    assert outcome.status is CaseStatus.EXCEPTION
    (record,) = exceptions.records
    assert record == outcome.record
    assert record["kind"] == "onboarding_exception"
    assert (record["saga"], record["case_id"]) == ("onboarding", "c1")
    assert record["event"]["event_id"] == "c1"
    assert record["failed_step"]["step"] == "support"
    assert (record["failed_step"]["reason"], record["failed_step"]["attempts"]) == (
        "exhausted",
        4,
    )
    assert record["compensation_failed"]["step"] == "billing"
    assert record["compensation_failed"]["last_error"] == "HTTP 500"
    assert record["steps_done"] == ["crm", "billing"]
    assert record["compensated"] == []
    assert record["still_in_effect"] == ["crm", "billing"]
    assert set(record["responses"]) == {"crm", "billing"}
    assert saas.applied("/crm", method="DELETE") == []  # unwinding stopped


def test_a_step_without_compensation_cannot_be_undone(
    saas: FakeSaaS, runner: Runner
) -> None:
    saas.script("POST", "/billing", Act(422))
    exceptions = MemoryRecords()

    outcome = runner(exceptions, crm_undo=False).run(case())

    assert outcome.status is CaseStatus.EXCEPTION
    (record,) = exceptions.records
    assert record["failed_step"]["step"] == "billing"
    assert record["compensation_failed"]["reason"] == "not_compensable"
    assert record["still_in_effect"] == ["crm"]


def test_compensating_what_is_already_gone_counts_as_undone(
    saas: FakeSaaS, runner: Runner
) -> None:
    saas.script("POST", "/support", Act(400))
    saas.script("DELETE", "/crm", Act(404))

    outcome = runner(MemoryRecords()).run(case())

    assert outcome.status is CaseStatus.COMPENSATED
