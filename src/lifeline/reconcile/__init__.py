"""Reconciliation: the source databases against the golden-record cache.

``lifeline reconcile`` reads every party row of the source databases and
the cache, and reports source rows the cache misses, golden fields that
differ from the owning source, and cache entries whose source rows are gone
(see ``docs/streaming-engineers.md``, "Reconciliation").
"""

from lifeline.reconcile.findings import CATEGORIES, EXTRA, MISSING, STALE, Finding
from lifeline.reconcile.mask import mask
from lifeline.reconcile.reconciler import Options, Reconciler
from lifeline.reconcile.report import Report, report_json, report_text

__all__ = [
    "CATEGORIES",
    "EXTRA",
    "MISSING",
    "STALE",
    "Finding",
    "Options",
    "Reconciler",
    "Report",
    "mask",
    "report_json",
    "report_text",
]
