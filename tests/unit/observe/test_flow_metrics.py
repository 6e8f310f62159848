"""The flows' metric wiring, on Bytewax's testing source and sinks."""

from __future__ import annotations

from typing import Any

from bytewax.testing import TestingSink, TestingSource, run_main
from prometheus_client import REGISTRY

from lifeline.decode.records import KafkaRecord
from lifeline.flows.golden import build_golden_flow
from lifeline.flows.skeleton import build_flow
from lifeline.settings import Settings
from tests.factories import customer, user
from tests.unit.test_golden_flow import external_id


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def run_skeleton(batches: list[list[KafkaRecord]]) -> None:
    ignored: list[Any] = []
    flow = build_flow(
        Settings(),
        source=TestingSource(batches),
        cache_sink=TestingSink(ignored),
        dead_letter_sink=TestingSink(ignored),
    )
    run_main(flow)  # type: ignore[no-untyped-call]


def run_golden(batches: list[list[KafkaRecord]]) -> None:
    ignored: list[Any] = []
    flow = build_golden_flow(
        Settings(),
        source=TestingSource(batches),
        row_sink=TestingSink(ignored),
        golden_sink=TestingSink(ignored),
        event_sink=TestingSink(ignored),
        dead_letter_sink=TestingSink(ignored),
        audit_sink=TestingSink(ignored),
    )
    run_main(flow)  # type: ignore[no-untyped-call]


def changes(system: str, table: str, op: str) -> tuple[str, dict[str, str]]:
    labels = {"flow": "skeleton", "system": system, "table": table, "op": op}
    return "lifeline_changes_total", labels


SKELETON_SERIES = {
    "created": changes("erp", "customers", "c"),
    "updated": changes("erp", "customers", "u"),
    "users": changes("identity", "users", "c"),
    "malformed": (
        "lifeline_decode_errors_total",
        {"flow": "skeleton", "kind": "malformed_json"},
    ),
    "duplicate": (
        "lifeline_changes_dropped_total",
        {"flow": "skeleton", "reason": "duplicate"},
    ),
    "stale": (
        "lifeline_changes_dropped_total",
        {"flow": "skeleton", "reason": "stale"},
    ),
}


def snapshot() -> dict[str, float]:
    return {
        key: value(name, **labels) for key, (name, labels) in SKELETON_SERIES.items()
    }


def test_changes_decode_errors_and_drops_are_counted_per_batch() -> None:
    before = snapshot()
    bad = KafkaRecord("erp.erp.customers", 0, 9, b'{"id":9}', b"{not json")
    run_skeleton(
        [
            [
                customer(1, "a@example.com", 100),
                customer(2, "b@example.com", 300),
                user("u-1", "a@example.com", 10),
                bad,
            ],
            [
                customer(1, "a@example.com", 100),  # the same position again
                customer(2, "b@example.com", 200, op="u"),  # older than applied
            ],
        ]
    )
    after = snapshot()
    assert {key: after[key] - before[key] for key in before} == {
        "created": 3,
        "updated": 1,
        "users": 1,
        "malformed": 1,
        "duplicate": 1,
        "stale": 1,
    }


def test_a_merge_is_counted_once() -> None:
    before = value("lifeline_resolver_events_total", flow="golden", kind="merged")
    run_golden(
        [
            [customer(5, "kim@example.com", 100, name="Kim Park")],
            [user("u-5", "other@example.org", 5000)],  # no shared key: two records
            [external_id("u-5", "C-5", 5001)],  # the user claims the customer
        ]
    )
    after = value("lifeline_resolver_events_total", flow="golden", kind="merged")
    assert after - before == 1


def test_a_split_and_a_removal_are_counted() -> None:
    kinds = ("merged", "split", "removed")

    def counts() -> dict[str, float]:
        name = "lifeline_resolver_events_total"
        return {kind: value(name, flow="golden", kind=kind) for kind in kinds}

    before = counts()
    run_golden(
        [
            [customer(4, "jd@example.com", 100, name="Jane Doe")],
            [user("u-41", "jd@example.com", 5000)],
            [user("u-41", "elsewhere@example.org", 5002, op="u")],  # leaves
            [customer(4, "jd@example.com", 101, op="d")],  # last member gone
        ]
    )
    after = counts()
    assert {kind: after[kind] - before[kind] for kind in kinds} == {
        "merged": 0,
        "split": 1,
        "removed": 1,
    }
