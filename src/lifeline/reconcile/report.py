"""The result of a reconciliation run, as text or JSON (values masked)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.reconcile.findings import CATEGORIES, Finding, Tally
from lifeline.reconcile.mask import mask
from lifeline.table import render_table


@dataclass(frozen=True, slots=True)
class Report:
    """What one run read and found.

    ``rows`` counts source rows read per table; ``recent`` the rows left
    unchecked because they changed inside the grace period; ``settled`` the
    drifted entries a re-check found in step again (lag, not drift);
    ``recheck`` says whether a re-check ran (``off``, ``not needed``,
    ``done`` or why it was skipped); ``id_prefix`` is the ``--id-prefix``
    the run was limited to ("" for all).
    """

    tally: Tally
    rows: dict[str, int]
    index_entries: int
    golden_records: int
    recent: int
    settled: int
    recheck: str
    grace: float
    seconds: float
    id_prefix: str = ""

    @property
    def drift(self) -> bool:
        """True when anything is missing, stale or extra."""
        return self.tally.total > 0

    @property
    def nothing_matched(self) -> bool:
        """True when ``id_prefix`` matched no source row and no index entry.

        Such a run compared nothing: it is clean only because it was empty.
        """
        return (
            bool(self.id_prefix)
            and not self.drift
            and sum(self.rows.values()) == 0
            and self.index_entries == 0
        )

    @property
    def rows_per_second(self) -> float:
        """Source rows read per second of the whole run."""
        return sum(self.rows.values()) / self.seconds if self.seconds > 0 else 0.0


def example_json(finding: Finding) -> dict[str, Any]:
    """One example: ids in full, every value masked."""
    example: dict[str, Any] = {
        "reason": finding.reason,
        "where": finding.where,
        "source_id": finding.source_id,
        "golden_id": finding.golden_id,
    }
    if finding.diffs:
        example["fields"] = [
            {"field": d.field, "cached": mask(d.cached), "source": mask(d.source)}
            for d in finding.diffs
        ]
    return example


def report_json(report: Report) -> dict[str, Any]:
    """The report as one JSON-ready object."""
    tally = report.tally
    return {
        "drift": report.drift,
        "counts": {category: tally.counts[category] for category in CATEGORIES},
        "by_table": {
            where: {category: counts[category] for category in CATEGORIES}
            for where, counts in sorted(tally.by_table.items())
        },
        "reasons": {
            category: {
                reason: n
                for (cat, reason), n in sorted(tally.reasons.items())
                if cat == category
            }
            for category in CATEGORIES
        },
        "stale_fields": dict(sorted(tally.stale_fields.items())),
        "examples": {
            category: [example_json(f) for f in tally.shown.get(category, [])]
            for category in CATEGORIES
        },
        "read": {
            "id_prefix": report.id_prefix,
            "nothing_matched": report.nothing_matched,
            "rows": dict(sorted(report.rows.items())),
            "index_entries": report.index_entries,
            "golden_records": report.golden_records,
        },
        "lag": {
            "grace_seconds": report.grace,
            "recent_rows": report.recent,
            "settled_on_recheck": report.settled,
            "recheck": report.recheck,
        },
        "seconds": round(report.seconds, 3),
        "rows_per_second": round(report.rows_per_second),
    }


def report_text(report: Report) -> str:
    """The report for a terminal."""
    tally = report.tally
    tables = sorted(set(report.rows) | set(tally.by_table))
    rows = [
        [
            category,
            *(_count(tally, t, category) for t in tables),
            tally.counts[category],
        ]
        for category in CATEGORIES
    ]
    read = ", ".join(f"{name} {n:,} rows" for name, n in sorted(report.rows.items()))
    lines = [
        "reconcile: " + _verdict(report),
        f"read: {read or '0 rows'}; {report.index_entries:,} index entries;"
        f" {report.golden_records:,} golden records",
        f"lag: {report.recent:,} rows changed in the last {report.grace:g}s not"
        f" checked; {report.settled:,} settled on re-check ({report.recheck})",
        "",
        render_table(["category", *tables, "total"], rows),
    ]
    if tally.stale_fields:
        fields = ", ".join(f"{k} {v:,}" for k, v in sorted(tally.stale_fields.items()))
        lines.append(f"stale fields: {fields}")
    if tally.shown:
        lines.append("examples (values masked):")
    for category in CATEGORIES:
        for finding in tally.shown.get(category, []):
            lines.append(f"  {category:7} {_example_text(finding)}")
    lines.append(
        f"took {report.seconds:.1f}s ({report.rows_per_second:,.0f} source rows/s)"
    )
    return "\n".join(lines)


def _verdict(report: Report) -> str:
    if report.drift:
        return "DRIFT found"
    if report.nothing_matched:
        return (
            f"clean, but nothing compared: no source ids start with "
            f"{report.id_prefix!r} (no source rows, no index entries)"
        )
    return "clean"


def _count(tally: Tally, where: str, category: str) -> int:
    counts = tally.by_table.get(where)
    return 0 if counts is None else counts[category]


def _example_text(finding: Finding) -> str:
    subject = finding.source_id or "-"
    text = f"{subject} -> {finding.golden_id or '-'} ({finding.reason})"
    for diff in finding.diffs:
        text += (
            f" {diff.field}: cache {mask(diff.cached)!r} source {mask(diff.source)!r}"
        )
    return text
