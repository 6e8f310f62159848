"""``lifeline reconcile``: compare the source databases with the golden cache."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from lifeline.argtypes import seconds, whole_number
from lifeline.cache.client import build_client
from lifeline.errors import LifelineError
from lifeline.golden.ownership import load_ownership
from lifeline.join.parties import sample_party_model
from lifeline.reconcile.cache_view import CacheView
from lifeline.reconcile.model import sample_tables
from lifeline.reconcile.reconciler import Options, Reconciler
from lifeline.reconcile.report import Report, report_json, report_text
from lifeline.reconcile.sources import SourceDatabases
from lifeline.settings import Settings

EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def add_parser(subparsers: Any) -> None:
    """Register ``reconcile`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "reconcile",
        help="compare the source databases with the golden records in Redis",
        description=(
            "Read every customer row of the ERP and identity databases and the "
            "golden-record cache, and report source rows the cache misses, golden "
            "fields that differ from the owning source, and cache entries whose "
            "source rows are gone: counts per table and masked examples. Exit 0 "
            "when in step, 1 on drift, 2 when it could not run."
        ),
    )
    parser.add_argument(
        "--grace",
        type=seconds(0),
        metavar="SECONDS",
        default=60.0,
        help="leave rows changed in the last SECONDS unchecked: in flight (60)",
    )
    parser.add_argument(
        "--recheck",
        type=seconds(0),
        metavar="SECONDS",
        default=15.0,
        help="re-read drifted entries for up to SECONDS until in step; 0: off (15)",
    )
    parser.add_argument(
        "--id-prefix",
        default="",
        metavar="PREFIX",
        help="only source ids whose id (after 'system:') starts with this",
    )
    parser.add_argument(
        "--examples",
        type=whole_number(0),
        default=5,
        metavar="N",
        help="examples per category (5)",
    )
    parser.add_argument(
        "--batch-size",
        type=whole_number(1),
        default=10_000,
        metavar="N",
        help="rows per batch (10000)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_reconcile)


def run_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """Reconcile once, print the report; return the exit code."""
    options = Options(
        grace=args.grace,
        recheck=args.recheck,
        id_prefix=args.id_prefix,
        batch_size=args.batch_size,
        examples=args.examples,
    )
    try:
        report = reconcile(settings, options)
    except LifelineError as exc:
        print(f"lifeline reconcile: could not run: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        sys.stdout.write(orjson.dumps(report_json(report)).decode() + "\n")
    else:
        print(report_text(report))
    return EXIT_DRIFT if report.drift else EXIT_CLEAN


def reconcile(settings: Settings, options: Options) -> Report:
    """One run against the databases and the cache of ``settings``."""
    rules = load_ownership(settings.ownership_file)
    tables = sample_tables(
        rules, sample_party_model(settings), settings.topics.erp_prefix
    )
    client = build_client(settings.redis)
    try:
        cache = CacheView(client, settings.cache_prefix)
        with SourceDatabases(settings) as sources:
            return Reconciler(sources, cache, rules, tables, options).run()
    finally:
        client.close()
