"""What reconciliation finds, and the tally that counts it.

Three categories of drift:

* ``missing`` - a source row the cache does not serve: no index entry
  (``no_index_entry``), an index entry naming no golden record
  (``no_golden_record``), or a golden record that does not list it
  (``not_listed``);
* ``stale`` - the golden record's value of a field the row's system owns
  differs from the row's current value (``field_differs``);
* ``extra`` - an index entry whose source row is gone (``source_row_gone``),
  or a golden record none of whose source rows exists
  (``no_source_row``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

MISSING: Final = "missing"
STALE: Final = "stale"
EXTRA: Final = "extra"
CATEGORIES: Final = (MISSING, STALE, EXTRA)

NO_INDEX_ENTRY: Final = "no_index_entry"
NO_GOLDEN_RECORD: Final = "no_golden_record"
NOT_LISTED: Final = "not_listed"
FIELD_DIFFERS: Final = "field_differs"
SOURCE_ROW_GONE: Final = "source_row_gone"
NO_SOURCE_ROW: Final = "no_source_row"


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """A golden field whose cached value is not the source's (unmasked)."""

    field: str
    cached: Any = dataclasses.field(repr=False)
    source: Any = dataclasses.field(repr=False)


@dataclass(frozen=True, slots=True)
class Finding:
    """One drifted entry.

    ``source_id`` is None only for a golden record without source rows;
    ``where`` is the ``<system>.<table>`` it is counted under.
    """

    category: str
    reason: str
    where: str
    source_id: str | None
    golden_id: str | None
    diffs: tuple[FieldDiff, ...] = ()

    @property
    def subject(self) -> str:
        """What a re-check looks at again: the source id, else the golden id."""
        return self.source_id if self.source_id is not None else f"#{self.golden_id}"


@dataclass(slots=True)
class Tally:
    """Counts of findings by category, table, reason and field, and examples.

    Keeps the first ``examples`` findings of each category, and every
    finding up to ``keep`` of them (for a re-check); past that, ``kept`` is
    None and only the counts go on.
    """

    examples: int = 5
    keep: int = 100_000
    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    by_table: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    reasons: Counter[tuple[str, str]] = dataclasses.field(default_factory=Counter)
    stale_fields: Counter[str] = dataclasses.field(default_factory=Counter)
    shown: dict[str, list[Finding]] = dataclasses.field(default_factory=dict)
    kept: list[Finding] | None = dataclasses.field(default_factory=list)

    def add(self, findings: Iterable[Finding]) -> None:
        """Count ``findings``."""
        for finding in findings:
            self._add(finding)

    def _add(self, finding: Finding) -> None:
        category = finding.category
        self.counts[category] += 1
        self.by_table.setdefault(finding.where, Counter())[category] += 1
        self.reasons[(category, finding.reason)] += 1
        self.stale_fields.update(diff.field for diff in finding.diffs)
        shown = self.shown.setdefault(category, [])
        if len(shown) < self.examples:
            shown.append(finding)
        if self.kept is not None:
            self.kept.append(finding)
            if len(self.kept) > self.keep:
                self.kept = None

    @property
    def total(self) -> int:
        """Findings counted, all categories."""
        return sum(self.counts.values())
