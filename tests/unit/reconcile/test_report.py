"""Counting findings and reporting them with masked examples."""

from __future__ import annotations

from dataclasses import replace

import orjson

from lifeline.reconcile.findings import (
    EXTRA,
    FIELD_DIFFERS,
    MISSING,
    NO_INDEX_ENTRY,
    SOURCE_ROW_GONE,
    STALE,
    FieldDiff,
    Finding,
    Tally,
)
from lifeline.reconcile.report import Report, report_json, report_text


def missing(n: int) -> Finding:
    return Finding(MISSING, NO_INDEX_ENTRY, "erp.customers", f"erp:C-{n}", None)


STALE_EMAIL = Finding(
    STALE,
    FIELD_DIFFERS,
    "identity.users",
    "identity:u-7",
    "g-7",
    (FieldDiff("login_email", "old.address@example.com", "jane.roe@example.org"),),
)
GONE = Finding(EXTRA, SOURCE_ROW_GONE, "erp.customers", "erp:C-9", "g-9")


def report_of(tally: Tally) -> Report:
    return Report(
        tally=tally,
        rows={"erp.customers": 10, "identity.users": 5},
        index_entries=15,
        golden_records=12,
        recent=1,
        settled=2,
        recheck="done",
        grace=60.0,
        seconds=0.5,
    )


def test_counts_go_by_category_table_reason_and_field() -> None:
    tally = Tally(examples=2)
    tally.add([missing(1), missing(2), missing(3), STALE_EMAIL, GONE])
    assert dict(tally.counts) == {MISSING: 3, STALE: 1, EXTRA: 1}
    assert tally.by_table["erp.customers"] == {MISSING: 3, EXTRA: 1}
    assert tally.reasons[(EXTRA, SOURCE_ROW_GONE)] == 1
    assert dict(tally.stale_fields) == {"login_email": 1}
    assert [f.source_id for f in tally.shown[MISSING]] == ["erp:C-1", "erp:C-2"]
    assert tally.total == 5


def test_findings_past_the_limit_are_counted_but_not_kept() -> None:
    tally = Tally(keep=3)
    tally.add(missing(n) for n in range(3))
    assert tally.kept is not None
    assert len(tally.kept) == 3
    tally.add([missing(4)])
    assert tally.kept is None
    assert tally.counts[MISSING] == 4


def test_json_report_masks_values_and_shows_ids() -> None:
    tally = Tally()
    tally.add([missing(1), STALE_EMAIL, GONE])
    report = report_json(report_of(tally))
    text = orjson.dumps(report).decode()
    assert "jane.roe" not in text
    assert "old.address" not in text
    assert report["drift"] is True
    assert report["counts"] == {MISSING: 1, STALE: 1, EXTRA: 1}
    assert report["by_table"]["identity.users"] == {MISSING: 0, STALE: 1, EXTRA: 0}
    (stale,) = report["examples"][STALE]
    assert stale["source_id"] == "identity:u-7"
    assert stale["golden_id"] == "g-7"
    assert stale["fields"] == [
        {"field": "login_email", "cached": "o***@e***.com", "source": "j***@e***.org"}
    ]
    assert report["lag"] == {
        "grace_seconds": 60.0,
        "recent_rows": 1,
        "settled_on_recheck": 2,
        "recheck": "done",
    }
    assert report["read"]["rows"] == {"erp.customers": 10, "identity.users": 5}


def test_a_clean_report_says_so() -> None:
    report = report_of(Tally())
    assert not report.drift
    assert report_json(report)["counts"] == {MISSING: 0, STALE: 0, EXTRA: 0}
    assert report_text(report).startswith("reconcile: clean")


def test_text_report_lists_masked_examples() -> None:
    tally = Tally()
    tally.add([STALE_EMAIL, GONE])
    text = report_text(report_of(tally))
    assert text.startswith("reconcile: DRIFT found")
    assert "identity:u-7 -> g-7 (field_differs)" in text
    assert "login_email: cache 'o***@e***.com' source 'j***@e***.org'" in text
    assert "erp:C-9 -> g-9 (source_row_gone)" in text
    assert "jane.roe" not in text


def test_a_prefix_that_matches_nothing_is_said_plainly() -> None:
    empty = replace(
        report_of(Tally()), rows={}, index_entries=0, id_prefix="ZZZ", recheck="off"
    )
    text = report_text(empty)
    assert text.startswith(
        "reconcile: clean, but nothing compared: no source ids start with 'ZZZ'"
    )
    assert "read: 0 rows; 0 index entries; 12 golden records" in text
    assert report_json(empty)["read"]["nothing_matched"] is True
    assert not empty.drift


def test_a_prefix_that_matches_rows_is_plain_clean() -> None:
    report = replace(report_of(Tally()), id_prefix="C-10")
    assert not report.nothing_matched
    assert report_text(report).startswith("reconcile: clean\n")
    assert report_json(report)["read"]["id_prefix"] == "C-10"
