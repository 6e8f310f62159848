"""The resolve step inside a Bytewax flow, on the testing source and sink."""

from __future__ import annotations

from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main

from lifeline.resolve import (
    RecordChange,
    RecordDelete,
    ResolutionBatch,
    SourceRecord,
    resolve_step,
)
from lifeline.resolve.state import golden_id_for

Raw = tuple[str, str, dict[str, Any] | None]  # system, id, fields (None: delete)


def keyed(batch: list[Raw]) -> tuple[str, list[RecordChange]]:
    """Stateless keying, as the flow does it on every worker."""
    changes: list[RecordChange] = [
        RecordDelete(system, id_)
        if fields is None
        else SourceRecord.from_fields(system, id_, fields)
        for system, id_, fields in batch
    ]
    return "resolver", changes


def run(batches: list[list[Raw]]) -> list[ResolutionBatch]:
    out: list[tuple[str, ResolutionBatch]] = []
    flow = Dataflow("resolve_test")
    stream = op.input("in", flow, TestingSource(batches))
    resolved = op.stateful_flat_map(
        "resolve", op.map("key", stream, keyed), resolve_step()
    )
    op.output("out", resolved, TestingSink(out))
    run_main(flow)  # type: ignore[no-untyped-call]  # bytewax.testing has no types
    return [batch for _, batch in out]


def test_batches_flow_through_one_resolver() -> None:
    anna = {"name": "Anna Müller", "email": "anna@example.com"}
    first, second, third = run(
        [
            [("erp", "C-1", anna), ("erp", "C-2", {"name": "Lukas Becker"})],
            [
                (
                    "identity",
                    "u-1",
                    {
                        "first_name": "Anna",
                        "last_name": "Mueller",
                        "email": " ANNA@example.com",
                    },
                )
            ],
            [("erp", "C-1", None)],
        ]
    )
    assert [d.golden_id for d in first.decisions] == [
        golden_id_for("erp:C-1"),
        golden_id_for("erp:C-2"),
    ]
    assert second.decisions[0].golden_id == golden_id_for("erp:C-1")
    assert second.decisions[0].rule == "email"
    assert third.decisions[0].rule == "deleted"
    assert third.events == ()
