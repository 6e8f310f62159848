"""The skeleton flow on Bytewax's testing source and sink."""

from __future__ import annotations

from typing import Any

from bytewax.testing import TestingSink, TestingSource, run_main

from lifeline.decode.change import DeadLetter
from lifeline.decode.records import KafkaRecord
from lifeline.flows.skeleton import build_flow
from lifeline.join.email_view import ViewChange
from lifeline.join.latest import RowChange
from lifeline.settings import Settings
from tests.factories import customer, record, user


def run(batches: list[list[KafkaRecord]]) -> tuple[list[Any], list[DeadLetter]]:
    cache: list[Any] = []
    dead: list[DeadLetter] = []
    flow = build_flow(
        Settings(),
        source=TestingSource(batches),
        cache_sink=TestingSink(cache),
        dead_letter_sink=TestingSink(dead),
    )
    run_main(flow)
    return [change for item in cache for change in item], dead


def final_rows(changes: list[Any]) -> dict[tuple[str, str, str], Any]:
    rows: dict[tuple[str, str, str], Any] = {}
    for change in changes:
        if isinstance(change, RowChange):
            rows[(change.system, change.table, change.row_id)] = change.row
    return {key: row for key, row in rows.items() if row is not None}


def final_views(changes: list[Any]) -> dict[str, set[str]]:
    views: dict[str, set[str]] = {}
    for change in changes:
        if isinstance(change, ViewChange):
            views[change.email] = set(change.members)
    return {email: members for email, members in views.items() if members}


def test_rows_and_email_view_join_across_systems() -> None:
    changes, dead = run(
        [
            [
                customer(1, " Jane.Doe@Example.COM ", 100),
                customer(2, "bob@example.org", 200),
            ],
            [user("u-7", "jane.doe@example.com", 5000)],
        ]
    )
    assert dead == []
    assert set(final_rows(changes)) == {
        ("erp", "customers", "1"),
        ("erp", "customers", "2"),
        ("identity", "users", "u-7"),
    }
    assert final_views(changes) == {
        "jane.doe@example.com": {"erp:customers:1", "identity:users:u-7"},
        "bob@example.org": {"erp:customers:2"},
    }


def test_email_change_moves_member_and_delete_withdraws_it() -> None:
    old = customer(1, "old@example.com", 100)
    changes, _ = run(
        [
            [old, user("u-1", "old@example.com", 10)],
            [customer(1, "new@example.com", 300, op="u")],
            [user("u-1", "old@example.com", 20, op="d")],
        ]
    )
    assert final_views(changes) == {"new@example.com": {"erp:customers:1"}}


def test_duplicates_and_stale_changes_never_regress_a_row() -> None:
    newest = customer(1, "a@example.com", 500, op="u", credit="900.00")
    stale = customer(1, "a@example.com", 400, op="u", credit="100.00")
    changes, _ = run([[customer(1, "a@example.com", 100)], [newest, newest, stale]])
    row = final_rows(changes)[("erp", "customers", "1")]
    assert str(row["credit_limit"]) == "900.00"
    applied = [c for c in changes if isinstance(c, RowChange)]
    assert len(applied) == 2


def test_delete_removes_row_and_late_older_change_cannot_resurrect_it() -> None:
    changes, _ = run(
        [
            [customer(1, "a@example.com", 100)],
            [
                customer(
                    1, None, 300, op="d", before={"id": 1, "email": "a@example.com"}
                )
            ],
            [customer(1, "a@example.com", 200, op="u")],
        ]
    )
    assert final_rows(changes) == {}
    assert final_views(changes) == {}


def test_bad_records_go_to_dead_letters_and_the_flow_goes_on() -> None:
    bad_json = KafkaRecord("erp.erp.customers", 0, 41, b'{"id":9}', b"{not json")
    bad_op = record("erp.erp.customers", {"id": 9}, {"op": "x", "source": {}})
    changes, dead = run([[bad_json, bad_op, customer(3, "c@example.com", 100)]])
    assert [(d.kind, d.coordinates.offset) for d in dead] == [
        ("malformed_json", 41),
        ("unknown_op", 0),
    ]
    assert dead[0].value == b"{not json"
    assert ("erp", "customers", "3") in final_rows(changes)
