"""``lifeline lookup``: print golden records from the cache as JSON."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from lifeline.cache.client import build_client
from lifeline.cache.reader import CacheReader
from lifeline.errors import LifelineError
from lifeline.settings import Settings

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_ERROR = 0, 1, 2


def add_parser(subparsers: Any) -> None:
    """Register ``lookup`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "lookup",
        help="print a golden record from the Redis cache as JSON",
        description=(
            "Print each golden record matching KEY as one JSON object per line: "
            "a golden id, a source id such as erp:C-1042, or an email (every "
            "record sharing it). Merged ids lead to the survivor. Exit 0 when "
            "found, 1 when not, 2 on error."
        ),
    )
    parser.add_argument(
        "key", type=lookup_key, help="golden id, <system>:<id> or email"
    )
    parser.add_argument("--pretty", action="store_true", help="indent the JSON")
    parser.set_defaults(handler=run_lookup)


def lookup_key(text: str) -> str:
    """The key, trimmed; an argparse error when it or a part of it is empty.

    It is read as :meth:`CacheReader.lookup` reads it: a source id when it
    has ``:``, else an email when it has ``@``, else a golden id.
    """
    key = text.strip()
    if not key:
        msg = "empty key: give a golden id, <system>:<id> or an email"
        raise argparse.ArgumentTypeError(msg)
    if ":" in key:
        _check_parts(key, ":", "source id", ("system", "id"), "erp:C-1042")
    elif "@" in key:
        _check_parts(key, "@", "email", ("name", "domain"), "anna@example.com")
    return key


def _check_parts(
    key: str, sep: str, what: str, parts: tuple[str, str], example: str
) -> None:
    head, _, tail = key.partition(sep)
    if not head.strip():
        missing = f"{parts[0]} before"
    elif not tail.strip():
        missing = f"{parts[1]} after"
    else:
        return
    msg = f"{what} {key!r} has no {missing} the '{sep}' (as in {example})"
    raise argparse.ArgumentTypeError(msg)


def _read_as(key: str) -> str:
    """How the key was read, for the message of a miss."""
    if ":" in key:
        return f"for source id {key}"
    if "@" in key:
        return f"for email {key}"
    return f"with golden id {key}"


def run_lookup(args: argparse.Namespace, settings: Settings) -> int:
    """Print the records matching ``args.key``; return the exit code."""
    client = build_client(settings.redis)
    try:
        records = CacheReader(client, settings.cache_prefix).lookup(args.key)
    except LifelineError as exc:
        print(f"lifeline lookup: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    if not records:
        print(
            f"lifeline lookup: no golden record {_read_as(args.key)}", file=sys.stderr
        )
        return EXIT_NOT_FOUND
    option = orjson.OPT_INDENT_2 if args.pretty else 0
    for record in records:
        sys.stdout.write(orjson.dumps(record.to_json(), option=option).decode() + "\n")
    return EXIT_FOUND
