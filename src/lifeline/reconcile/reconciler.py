"""One reconciliation run: stream the sources, read the cache, classify.

The run makes one pass over each source table, in batches: for a batch of
rows it reads the index entries of their source ids (one ``MGET``) and the
golden records they name (one pipeline), and classifies the rows. Then one
``SCAN`` over the index finds entries whose source row is gone, and one
over the golden records finds records no row reached and none of whose
source rows exists. No round trip is per row.

Changes in flight are lag, not drift: rows changed inside the grace period
are not checked, and what the pass found drifted is checked again, by id,
until it is in step or the re-check window ends.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from lifeline.golden.ownership import OwnershipRules
from lifeline.reconcile.cache_view import CacheView, glob_escape
from lifeline.reconcile.classify import (
    UNLISTED,
    CachedGolden,
    RowChecker,
    SourceRow,
    gone_index_entries,
    orphan_goldens,
)
from lifeline.reconcile.findings import STALE, Finding, Tally
from lifeline.reconcile.model import ReconcileTable, Scope
from lifeline.reconcile.report import Report
from lifeline.reconcile.sources import SourceDatabases

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Options:
    """How a run reads and judges (see ``lifeline reconcile --help``)."""

    grace: float = 60.0
    recheck: float = 15.0
    recheck_interval: float = 1.0
    recheck_limit: int = 100_000
    id_prefix: str = ""
    batch_size: int = 10_000
    examples: int = 5


@dataclass(slots=True)
class _Seen:
    """What the pass over the sources saw."""

    present: set[str] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    rows: Counter[str] = field(default_factory=Counter)
    recent: int = 0
    index_entries: int = 0
    golden_records: int = 0


class Reconciler:
    """Compares the source tables with the golden records in the cache."""

    def __init__(
        self,
        sources: SourceDatabases,
        cache: CacheView,
        rules: OwnershipRules,
        tables: Sequence[ReconcileTable],
        options: Options,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sources = sources
        self._cache = cache
        self._rules = rules
        self._tables = tuple(tables)
        self._options = options
        self._scope = Scope(frozenset(t.system for t in tables), options.id_prefix)
        self._by_system: dict[str, list[ReconcileTable]] = {}
        for table in tables:
            self._by_system.setdefault(table.system, []).append(table)
        self._clock = clock
        self._sleep = sleep

    def run(self) -> Report:
        """Reconcile once; raises the sources' and the cache's errors."""
        began = self._clock()
        options = self._options
        self._cache.check()
        self._sources.connect({table.engine for table in self._tables})
        tally = Tally(options.examples, options.recheck_limit)
        seen = _Seen()
        checker = RowChecker(self._rules)
        for table in self._tables:
            for rows in self._sources.stream(
                table,
                batch_size=options.batch_size,
                grace=options.grace,
                id_prefix=options.id_prefix,
            ):
                tally.add(self._check_rows(rows, checker, seen))
        tally.add(checker.finish())
        tally.add(self._gone_entries(seen))
        tally.add(self._orphans(seen))
        logger.info(
            "reconcile pass done rows=%d found=%d", seen.rows.total(), tally.total
        )
        final, settled, recheck = self._settle(tally)
        return Report(
            tally=final,
            rows=dict(seen.rows),
            index_entries=seen.index_entries,
            golden_records=seen.golden_records,
            recent=seen.recent,
            settled=settled,
            recheck=recheck,
            grace=options.grace,
            seconds=self._clock() - began,
            id_prefix=options.id_prefix,
        )

    def _check_rows(
        self, rows: list[SourceRow], checker: RowChecker, seen: _Seen
    ) -> list[Finding]:
        ids = [row.source_id for row in rows]
        seen.present.update(ids)
        seen.rows[rows[0].table.name] += len(rows)
        index = self._cache.golden_ids(ids)
        seen.reached.update(g for g in index.values() if g is not None)
        live = [row for row in rows if not row.recent]
        seen.recent += len(rows) - len(live)
        goldens = self._cache.goldens(
            g for row in live if (g := index[row.source_id]) is not None
        )
        return checker.check(live, index, goldens)

    def _gone_entries(self, seen: _Seen) -> list[Finding]:
        pattern = "*"
        if self._scope.id_prefix:
            pattern = "*:" + glob_escape(self._scope.id_prefix) + "*"
        gone: list[str] = []
        for batch in self._cache.index_keys(pattern):
            judged = [s for s in batch if self._scope.covers(s)]
            seen.index_entries += len(judged)
            gone.extend(s for s in judged if s not in seen.present)
        index = self._cache.golden_ids(gone)
        return gone_index_entries(index.items(), self._where)

    def _orphans(self, seen: _Seen) -> list[Finding]:
        findings: list[Finding] = []
        for batch in self._cache.golden_keys():
            seen.golden_records += len(batch)
            unreached = [g for g in batch if g not in seen.reached]
            goldens = self._cache.goldens(unreached).values()
            findings.extend(
                orphan_goldens(goldens, seen.present, self._scope, self._where)
            )
        return findings

    def _settle(self, tally: Tally) -> tuple[Tally, int, str]:
        """Re-check the findings until they settle or the window ends."""
        options = self._options
        if options.recheck <= 0:
            return tally, 0, "off"
        if tally.total == 0:
            return tally, 0, "not needed"
        if tally.kept is None:
            return tally, 0, f"skipped: over {options.recheck_limit:,} findings"
        findings = tally.kept
        before = {finding.subject for finding in findings}
        deadline = self._clock() + options.recheck
        while findings and (left := deadline - self._clock()) > 0:
            self._sleep(min(options.recheck_interval, left))
            findings = self.recheck(findings)
        final = Tally(options.examples, options.recheck_limit)
        final.add(findings)
        settled = len(before - {finding.subject for finding in findings})
        logger.info("reconcile re-check done settled=%d left=%d", settled, final.total)
        return final, settled, "done"

    def recheck(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings among ``findings`` that still hold, read again by id."""
        findings = list(findings)
        subjects = {finding.subject for finding in findings}
        source_ids = {f.source_id for f in findings if f.source_id is not None}
        # A stale record with several rows of one system is judged on all.
        stale = {f.golden_id for f in findings if f.category == STALE and f.golden_id}
        listed = self._cache.goldens(stale)
        orphans = self._cache.goldens(
            f.golden_id for f in findings if f.source_id is None and f.golden_id
        )
        for golden in (*listed.values(), *orphans.values()):
            source_ids.update(s for s in golden.source_ids if self._scope.covers(s))
        again = self._judge(sorted(source_ids), orphans.values())
        return [finding for finding in again if finding.subject in subjects]

    def _judge(
        self, source_ids: list[str], orphans: Iterable[CachedGolden]
    ) -> list[Finding]:
        rows = self._fetch(source_ids)
        present = {row.source_id for row in rows}
        index = self._cache.golden_ids(source_ids)
        live = [row for row in rows if not row.recent]
        goldens = self._cache.goldens(
            g for row in live if (g := index[row.source_id]) is not None
        )
        checker = RowChecker(self._rules)
        found = checker.check(live, index, goldens) + checker.finish()
        gone = [(s, index[s]) for s in source_ids if s not in present]
        found += gone_index_entries(gone, self._where)
        found += orphan_goldens(orphans, present, self._scope, self._where)
        return found

    def _fetch(self, source_ids: Iterable[str]) -> list[SourceRow]:
        by_system: dict[str, list[str]] = {}
        for source_id in source_ids:
            system, _, row_id = source_id.partition(":")
            by_system.setdefault(system, []).append(row_id)
        rows: list[SourceRow] = []
        for system, row_ids in by_system.items():
            for table in self._by_system.get(system, []):
                rows.extend(
                    self._sources.fetch(table, row_ids, grace=self._options.grace)
                )
        return rows

    def _where(self, source_id: str) -> str:
        tables = self._by_system.get(source_id.partition(":")[0])
        return tables[0].name if tables else UNLISTED
