"""``lifeline resolve``: identity resolution from the command line.

Reads JSON lines on stdin, one source record each::

    {"system": "erp", "id": "C-1042", "fields": {"name": "...", ...}}
    {"system": "erp", "id": "C-1042", "deleted": true}

``fields`` may hold name, first_name, last_name, company, tax_id, email,
phone, street, city, postal_code, country and links (a list of
``"system:id"``), any of them missing. A later line for the same record is
an update. Records are resolved in batches by the same :class:`Resolver`
the dataflow runs; at the end one line per input record is written to
stdout, in input order, with the record's final golden id (``null`` once
deleted)::

    {"system": "erp", "id": "C-1042", "golden_id": "g-..."}

``--explain`` adds the decision: rule, matched_keys, score, matched_with.
A bad line is reported on stderr with its line number and what is wrong;
the other lines are still resolved, and the exit code is then 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from lifeline.argtypes import whole_number
from lifeline.errors import RecordError
from lifeline.resolve.config import DEFAULT_CONFIG, ResolutionConfig, load_config
from lifeline.resolve.decisions import DELETED, ResolutionDecision
from lifeline.resolve.record import (
    BAD_RECORD,
    RecordChange,
    RecordDelete,
    SourceRecord,
    check_ref,
)
from lifeline.resolve.resolver import Resolver
from lifeline.settings import Settings

_TOP_LEVEL = frozenset({"system", "id", "fields", "deleted"})
MALFORMED_JSON = "malformed_json"
EXIT_BAD_LINES = 1


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the ``resolve`` subcommand."""
    parser = subparsers.add_parser(
        "resolve",
        help="resolve JSON-lines source records on stdin to golden ids",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="resolution config YAML (default: built-in, as config/resolution.yaml)",
    )
    parser.add_argument(
        "--batch-size",
        type=whole_number(1),
        default=1000,
        help="records resolved together (default 1000)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="add rule, keys and score to each line"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``lifeline resolve`` on the process's stdin and stdout."""
    config = load_config(args.config) if args.config else DEFAULT_CONFIG
    return run(
        sys.stdin.buffer,
        sys.stdout,
        sys.stderr,
        config=config,
        batch_size=args.batch_size,
        explain=args.explain,
    )


def run(
    lines: Iterable[bytes],
    out: IO[str],
    err: IO[str],
    *,
    config: ResolutionConfig = DEFAULT_CONFIG,
    batch_size: int = 1000,
    explain: bool = False,
) -> int:
    """Resolve ``lines``; 0, or 1 when some lines were bad (and reported)."""
    resolver = Resolver(config)
    decisions: list[ResolutionDecision] = []
    batch: list[RecordChange] = []
    bad = 0
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            batch.append(parse_line(raw, config))
        except RecordError as exc:
            err.write(f"lifeline resolve: line {number}: {exc.reason}\n")
            bad += 1
            continue
        if len(batch) >= batch_size:
            decisions.extend(resolver.resolve(batch).decisions)
            batch.clear()
    decisions.extend(resolver.resolve(batch).decisions)
    out.writelines(_output(resolver, decision, explain) for decision in decisions)
    out.flush()
    return EXIT_BAD_LINES if bad else 0


def parse_line(raw: bytes, config: ResolutionConfig = DEFAULT_CONFIG) -> RecordChange:
    """One input line as a change; :class:`RecordError` says what is wrong."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = "not valid JSON"
        raise RecordError(MALFORMED_JSON, msg) from exc
    if not isinstance(obj, dict):
        msg = "expected a JSON object"
        raise RecordError(BAD_RECORD, msg)
    _check_envelope(obj)
    system, id_ = check_ref(obj.get("system"), obj.get("id"))
    if obj.get("deleted", False):
        return RecordDelete(system, id_)
    return SourceRecord.from_fields(system, id_, obj.get("fields") or {}, config)


def _check_envelope(obj: dict[str, Any]) -> None:
    msg = ""
    unknown = sorted(set(obj) - _TOP_LEVEL)
    if unknown:
        msg = f"unknown key(s) {', '.join(unknown)}"
    elif not isinstance(obj.get("deleted", False), bool):
        msg = "deleted must be true or false"
    elif not isinstance(obj.get("fields", {}), dict | None):
        msg = "fields must be a JSON object"
    if msg:
        raise RecordError(BAD_RECORD, msg)


def _output(resolver: Resolver, decision: ResolutionDecision, explain: bool) -> str:
    golden = None if decision.rule == DELETED else resolver.golden_id(decision.ref)
    line: dict[str, Any] = {
        "system": decision.system,
        "id": decision.id,
        "golden_id": golden,
    }
    if explain:
        line.update(
            rule=decision.rule,
            matched_keys=list(decision.matched_keys),
            score=decision.score,
            matched_with=decision.matched_with,
        )
    return orjson.dumps(line).decode() + "\n"
