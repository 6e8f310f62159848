"""``lifeline slots``: the WAL each PostgreSQL replication slot keeps.

One row per slot of the identity database's server: whether a consumer is
attached, the WAL it keeps (``restart_lsn`` behind the current position)
and what its consumer has not confirmed (``confirmed_flush_lsn`` behind).
Exit codes: 0 every slot under the threshold (``--warn-bytes``, default
the ``postgres.slot_lag_warn_bytes`` setting), 1 at least one over it, 2 an
error.
"""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.capture.slots import SlotLag, over_threshold, slot_lag
from lifeline.preflight.units import format_size, parse_size
from lifeline.settings import Settings
from lifeline.table import render_table

EXIT_OK, EXIT_OVER = 0, 1


def add_parser(subparsers: Any) -> None:
    """Register ``slots`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "slots",
        help="replication slot lag of the PostgreSQL source",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--warn-bytes",
        type=_size,
        help="warn above this much kept WAL, e.g. 512MB (default: the setting)",
    )
    parser.set_defaults(handler=run_slots)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_slots(args: argparse.Namespace, settings: Settings) -> int:
    """Print every slot's lag; 1 when one keeps more WAL than the threshold."""
    threshold = args.warn_bytes or settings.postgres.slot_lag_warn_bytes
    lags = slot_lag(settings)
    print(render_slots(lags, threshold))
    return EXIT_OVER if over_threshold(lags, threshold) else EXIT_OK


def render_slots(lags: list[SlotLag], threshold: int) -> str:
    """The slot table and a last line naming the slots over ``threshold``."""
    if not lags:
        return "no replication slots"
    rows = [
        (
            "warn" if lag.over(threshold) else "ok",
            lag.slot,
            lag.plugin or lag.slot_type,
            lag.database or "-",
            "yes" if lag.active else "no",
            _size_cell(lag.retained_bytes),
            _size_cell(lag.flush_lag_bytes),
        )
        for lag in lags
    ]
    headers = ["", "slot", "plugin", "database", "active", "kept", "unconfirmed"]
    over = [lag.slot for lag in over_threshold(lags, threshold)]
    verdict = (
        f"{', '.join(over)} {'keeps' if len(over) == 1 else 'keep'} more than "
        f"{format_size(threshold)} of WAL"
        if over
        else f"every slot keeps less than {format_size(threshold)} of WAL"
    )
    return f"{render_table(headers, rows)}\n{verdict}"


def _size_cell(value: int | None) -> str:
    return "-" if value is None else format_size(value)
