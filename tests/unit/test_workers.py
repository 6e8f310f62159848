"""Two workers reach the same final state as one.

Keyed state (key groups, the resolver, golden records) is routed to workers
by key; this runs the golden flow on 1 and on 2 workers over the same input
and compares the golden records and source-row state they end with.
"""

from __future__ import annotations

from typing import Any

from bytewax.testing import TestingSink, TestingSource, cluster_main

from lifeline.cache.updates import Delete, Upsert
from lifeline.decode.records import KafkaRecord
from lifeline.flows.golden import build_golden_flow
from lifeline.golden.step import GoldenOutput
from lifeline.join.latest import RowChange
from lifeline.settings import Settings
from tests.factories import customer, user


def stream() -> list[list[KafkaRecord]]:
    batches: list[list[KafkaRecord]] = []
    for start in range(0, 120, 30):
        batch = []
        for i in range(start, start + 30):
            email = f"w{i // 2}@example.com"
            if i % 2:
                batch.append(customer(i, email, 100 + i, name=f"Wen {i // 2}"))
            else:
                batch.append(user(f"u-{i}", email, 1000 + i))
        if start:  # updates and deletes of earlier rows
            batch.append(
                customer(
                    start - 1,
                    "moved@example.com",
                    900 + start,
                    op="u",
                    name=f"Wen {(start - 1) // 2}",
                )
            )
            batch.append(
                user(
                    f"u-{start - 2}",
                    f"w{(start - 2) // 2}@example.com",
                    5000 + start,
                    op="d",
                )
            )
        batches.append(batch)
    return batches


def final_state(workers: int) -> tuple[dict[str, Any], dict[str, Any]]:
    golden: list[GoldenOutput] = []
    rows: list[list[RowChange]] = []
    ignored: list[Any] = []
    flow = build_golden_flow(
        Settings(),
        source=TestingSource(stream()),
        row_sink=TestingSink(rows),  # type: ignore[arg-type]
        golden_sink=TestingSink(golden),
        event_sink=TestingSink(ignored),
        dead_letter_sink=TestingSink(ignored),
        audit_sink=TestingSink(ignored),
    )
    cluster_main(flow, [], 0, worker_count_per_proc=workers)  # type: ignore[no-untyped-call]
    records: dict[str, Any] = {}
    for output in golden:
        for update in output.updates:
            if isinstance(update, Upsert):
                records[update.golden_id] = (
                    dict(update.record),
                    set(update.source_ids),
                )
            elif isinstance(update, Delete):
                records.pop(update.golden_id, None)
    latest: dict[str, Any] = {}
    for batch in rows:
        for change in batch:
            latest[f"{change.system}:{change.table}:{change.row_id}"] = change.row
    return records, latest


def test_two_workers_reach_the_same_final_state_as_one() -> None:
    one_records, one_rows = final_state(1)
    two_records, two_rows = final_state(2)
    assert one_rows == two_rows
    assert len(one_records) > 40
    assert by_members(one_records) == by_members(two_records)


def by_members(records: dict[str, Any]) -> list[Any]:
    """Golden records compared by members and fields (ids depend on arrival)."""
    return sorted(
        (sorted(members), sorted(record.items()))
        for record, members in records.values()
    )
