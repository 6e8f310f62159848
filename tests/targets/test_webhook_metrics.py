"""Webhook and saga metrics read from a real dispatcher and a fake SaaS."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry

from lifeline.observe.webhooks import DeliveryTimes, WebhookCollector
from lifeline.targets.config import parse_targets
from lifeline.targets.delivery import Dispatcher
from lifeline.targets.records import MemoryRecords
from tests.targets.conftest import ENV, FAST_BREAKER, FAST_RETRY, event, refused_url
from tests.targets.conftest import target as target_config
from tests.targets.fake_saas import Act, FakeSaaS


def onboarding(saas: FakeSaaS) -> dict[str, object]:
    def step(name: str, path: str) -> dict[str, object]:
        return {
            "name": name,
            "url": saas.url(path),
            "hmac_secret_env": "HOOK_SECRET",
            "timeout": 1.0,
            "retry": FAST_RETRY,
            "breaker": FAST_BREAKER,
        }

    # The CRM step has no compensation: when billing fails for good, the case
    # cannot be undone and goes to the exception queue.
    steps = [step("crm", "/onboard/crm"), step("billing", "/onboard/billing")]
    return {"name": "onboarding", "events": ["customer.onboarded"], "steps": steps}


def test_outcomes_circuits_and_exception_cases_are_exported(saas: FakeSaaS) -> None:
    saas.script("POST", "/onboard/billing", Act(400))
    config = parse_targets(
        {
            "targets": [
                target_config("crm", saas.url("/crm")),
                target_config(
                    "billing",
                    refused_url("/billing"),
                    retry={"max_attempts": 1},
                    breaker={"failure_threshold": 1, "open_seconds": 60.0},
                    limits={"max_in_flight": 1},
                ),
            ],
            "sagas": [onboarding(saas)],
        }
    )
    registry = CollectorRegistry()
    collector = WebhookCollector()
    registry.register(collector)
    times = DeliveryTimes()
    delay = ("lifeline_event_propagation_seconds_count", "customer.updated", "crm")
    labels = {"event_type": delay[1], "stage": "target", "target": delay[2]}
    delays_before = REGISTRY.get_sample_value(delay[0], labels) or 0.0

    with Dispatcher(
        config, MemoryRecords(), MemoryRecords(), env=ENV, on_result=times.add
    ) as dispatcher:
        collector.track(dispatcher)
        dispatcher.submit(
            [
                event("e1", "g-1"),
                event("e2", "g-2"),
                event("e3", "g-3", event_type="customer.onboarded"),
            ]
        )
        assert dispatcher.drain(10)
        times.flush()

        def sample(name: str, **labels: str) -> float | None:
            return registry.get_sample_value(name, labels)

        deliveries = "lifeline_webhook_deliveries_total"
        assert sample(deliveries, target="crm", outcome="delivered") == 2
        assert sample(deliveries, target="crm", outcome="dead_lettered") == 0
        assert sample(deliveries, target="billing", outcome="dead_lettered") == 2
        assert sample(deliveries, target="onboarding", outcome="delivered") is None
        state = "lifeline_webhook_circuit_state"
        assert sample(state, target="crm", state="closed") == 1
        assert sample(state, target="billing", state="open") == 1
        assert sample(state, target="billing", state="closed") == 0
        assert sample("lifeline_webhook_circuit_opened_total", target="billing") == 1
        assert sample("lifeline_webhook_attempts_total", target="crm", result="ok") == 2
        cases = "lifeline_saga_cases_total"
        assert sample(cases, saga="onboarding", outcome="exception") == 1
        assert sample(cases, saga="onboarding", outcome="completed") == 0
        assert sample("lifeline_webhook_queued", target="crm") == 0

    collector.untrack(dispatcher)
    assert (
        registry.get_sample_value(
            "lifeline_webhook_deliveries_total",
            {"target": "crm", "outcome": "delivered"},
        )
        is None
    )
    assert (REGISTRY.get_sample_value(delay[0], labels) or 0.0) == delays_before + 2


def test_two_dispatchers_add_up(saas: FakeSaaS) -> None:
    config = parse_targets({"targets": [target_config("crm", saas.url("/crm"))]})
    registry = CollectorRegistry()
    collector = WebhookCollector()
    registry.register(collector)
    with (
        Dispatcher(config, MemoryRecords(), env=ENV) as one,
        Dispatcher(config, MemoryRecords(), env=ENV) as other,
    ):
        collector.track(one)
        collector.track(other)
        one.submit([event("e1", "g-1")])
        other.submit([event("e2", "g-2"), event("e3", "g-3")])
        assert one.drain(10) and other.drain(10)
        labels = {"target": "crm"}
        value = registry.get_sample_value
        deliveries = "lifeline_webhook_deliveries_total"
        assert value(deliveries, {**labels, "outcome": "delivered"}) == 3
        assert value(deliveries, {**labels, "outcome": "duplicate"}) == 0
        assert value("lifeline_webhook_attempts_total", {**labels, "result": "ok"}) == 3
