"""Property: topic interleaving and redelivery never change the golden state.

Kafka keeps order within a partition only, and Debezium delivers at least
once. So the golden flow must reach the same final cache state from any
interleaving of its input topics, with any prefix of any topic delivered a
second time (a consumer that restarted before committing), as from the clean
stream. Golden ids may legitimately differ between runs only where the
documented survivor rule depends on arrival; the records, the partition of
source ids into golden records, the email indexes and the lifecycle stage
may not.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.decode.records import KafkaRecord
from tests.factories import customer, user
from tests.unit.test_golden_flow import erp_row, external_id, final_upserts, run

Topic = list[KafkaRecord]


def _topics() -> dict[str, Topic]:
    """Each topic in source order, offsets counting from 0."""
    order = {"id": 500, "order_no": "O-500", "customer_id": 51, "status": "open"}
    order |= {"currency": "EUR", "total": "10.00"}
    invoice = {"id": 501, "invoice_no": "I-500", "customer_id": 51}
    invoice |= {"order_id": 500, "status": "posted", "currency": "EUR"}
    invoice |= {"amount": "10.00", "issued_on": 20000, "due_on": 20030}
    failed = {"id": 502, "invoice_id": 501, "amount": "10.00", "status": "failed"}
    failed |= {"method": "card", "failure_reason": "declined"}
    raw: dict[str, list[KafkaRecord]] = {
        "customers": [
            customer(51, "ann@example.com", 100, name="Jane Able"),
            customer(52, "bo@example.com", 110, name="Bo Best"),
            customer(53, "cy@example.com", 120, name="Cy Crane"),
            # Jane changes her ERP email: she no longer shares a key with u-51,
            # whose given name (Jane, like every factory user) matched hers
            customer(51, "jane.able@example.com", 130, op="u", name="Jane Able"),
            customer(53, None, 140, op="d"),
        ],
        "users": [
            user("u-51", "ann@example.com", 1000),
            user("u-52", "bo@example.com", 1010),
            user("u-54", "di@example.com", 1020),
        ],
        "external_ids": [external_id("u-54", "C-52", 2000)],
        "orders": [erp_row("orders", order, 200)],
        "invoices": [erp_row("invoices", invoice, 300)],
        "payments": [erp_row("payments", failed, 400)],
    }
    return {
        name: [_at(item, offset) for offset, item in enumerate(items)]
        for name, items in raw.items()
    }


def _at(item: KafkaRecord, offset: int) -> KafkaRecord:
    return KafkaRecord(item.topic, item.partition, offset, item.key, item.value)


def _final_state(batches: list[list[KafkaRecord]]) -> dict[frozenset[str], Any]:
    """Each golden record's content, keyed by the source ids it holds."""
    return {
        frozenset(up.source_ids): (
            dict(up.record),
            frozenset(up.email_hashes),
            up.stage,
        )
        for up in final_upserts(run(batches)).values()
    }


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[KafkaRecord]]:
    """An interleaving of the topics, with redelivered prefixes, in batches."""
    queues = {name: list(items) for name, items in _topics().items()}
    delivered: list[KafkaRecord] = []
    sent = dict.fromkeys(queues, 0)
    while any(queues.values()):
        name = draw(st.sampled_from(sorted(n for n, q in queues.items() if q)))
        if sent[name] and draw(st.integers(0, 9)) == 0:
            # the consumer restarts: everything since some offset comes again
            back = draw(st.integers(1, sent[name]))
            topic = _topics()[name]
            delivered.extend(topic[sent[name] - back : sent[name]])
        delivered.append(queues[name].pop(0))
        sent[name] += 1
    cuts = sorted(draw(st.sets(st.integers(1, len(delivered) - 1), max_size=6)))
    bounds = [0, *cuts, len(delivered)]
    return [delivered[a:b] for a, b in itertools.pairwise(bounds)]


CLEAN = [[item for items in _topics().values() for item in items]]


def test_the_clean_stream_has_the_expected_shape() -> None:
    state = _final_state(CLEAN)
    groups = set(state)
    assert frozenset({"erp:C-51"}) in groups
    assert frozenset({"identity:u-51"}) in groups
    # u-54 claims C-52 explicitly; u-52 shares Bo's email but is a "Jane"
    assert frozenset({"erp:C-52", "identity:u-54"}) in groups
    assert frozenset({"identity:u-52"}) in groups
    assert not any("erp:C-53" in group for group in groups)
    assert state[frozenset({"erp:C-51"})][2] == "past_due"


def test_a_link_read_after_both_records_merges_them() -> None:
    # Found by the property below: u-54 and C-52 became golden records of
    # their own before the external id linking them was read.
    t = _topics()
    customers, users = t["customers"], t["users"]
    batches = [
        [t["invoices"][0]],
        [users[0]],
        [users[1], customers[0], users[1], users[2], customers[1]],
        [t["external_ids"][0], t["orders"][0], t["payments"][0], *customers[2:]],
    ]
    assert _final_state(batches) == _final_state(CLEAN)


@settings(max_examples=30, deadline=None)
@given(deliveries())
def test_any_interleaving_and_redelivery_reaches_the_clean_state(
    batches: list[list[KafkaRecord]],
) -> None:
    assert _final_state(batches) == _final_state(CLEAN)
