"""``lifeline audit``: print a golden record's lineage from the audit topic."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from lifeline.argtypes import seconds
from lifeline.audit.entry import encode_entry
from lifeline.audit.reader import AuditReader, AuditTrail
from lifeline.audit.timeline import render_timeline
from lifeline.cache.client import build_client
from lifeline.cache.keys import is_golden_id, is_source_id
from lifeline.cache.reader import CacheReader, GoldenRecord
from lifeline.errors import LifelineError
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_ERROR = 0, 1, 2


def add_parser(subparsers: Any) -> None:
    """Register ``audit`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "audit",
        help="print a golden record's lineage from the audit topic",
        description=(
            "Print every change of the golden record KEY names (a golden id, or "
            "a source id such as erp:C-1042, looked up in the cache), oldest "
            "first, with the source changes, match decisions and ownership "
            "rules behind it. Ids merged into the record are part of its "
            "lineage. Exit 0 when found, 1 when not, 2 on error."
        ),
    )
    parser.add_argument("key", help="golden id or <system>:<id>")
    parser.add_argument(
        "--json", action="store_true", help="one JSON audit entry per line"
    )
    parser.add_argument(
        "--idle-timeout",
        type=seconds(0.1),
        default=2.0,
        metavar="SECONDS",
        help="the topic's end is reached when nothing arrives this long (2)",
    )
    parser.set_defaults(handler=run_audit)


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print the lineage of ``args.key``; return the exit code."""
    key = args.key.strip()
    if not (is_source_id(key) or is_golden_id(key)):
        print(
            f"lifeline audit: {key!r} is no golden id or <system>:<id>", file=sys.stderr
        )
        return EXIT_ERROR
    try:
        ids = _golden_ids(settings, key)
        if not ids:
            print(f"lifeline audit: {key} is not in the cache", file=sys.stderr)
            return EXIT_NOT_FOUND
        trail = _reader(settings, args.idle_timeout).read(ids[0], ids[1:])
    except LifelineError as exc:
        print(f"lifeline audit: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not trail.entries:
        print(f"lifeline audit: no audit entries for {key}", file=sys.stderr)
        return EXIT_NOT_FOUND
    _print(trail, as_json=args.json)
    return EXIT_FOUND


def _golden_ids(settings: Settings, key: str) -> list[str]:
    """The ids whose entries make ``key``'s lineage, the current one first.

    A source id needs the cache; for a golden id the cache only adds the ids
    merged into it (the topic has them too), so an unreachable cache is
    logged and the topic alone is read.
    """
    client = build_client(settings.redis)
    reader = CacheReader(client, settings.cache_prefix)
    try:
        if is_source_id(key):
            record = reader.by_source_id(key)
            return [] if record is None else _ids_of(record)
        try:
            found = reader.by_golden_id(key)
        except LifelineError as exc:
            logger.warning("cache not read, reading the audit topic only: %s", exc)
            return [key]
        return [key] if found is None else [key, *_ids_of(found)]
    finally:
        client.close()


def _ids_of(record: GoldenRecord) -> list[str]:
    return list(
        dict.fromkeys([record.golden_id, *record.merged_ids, *record.merged_from])
    )


def _reader(settings: Settings, idle_timeout: float) -> AuditReader:
    config = {
        **settings.broker.client_config,
        "bootstrap.servers": settings.broker.bootstrap_servers,
    }
    return AuditReader(config, settings.topics.audit, idle_timeout=idle_timeout)


def _print(trail: AuditTrail, *, as_json: bool) -> None:
    if as_json:
        for entry in trail.entries:
            sys.stdout.write(encode_entry(entry).decode() + "\n")
        return
    for line in render_timeline(trail):
        sys.stdout.write(line + "\n")
