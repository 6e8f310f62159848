"""``lifeline replay``: re-deliver a target's dead letters.

Reads the dead-letter topic from the beginning and re-delivers the entries
of one target with their original Idempotency-Key; a ledger under the
state directory (``targets/replay-ledger.sqlite3``) keeps a second run from
resending what the first delivered. Exit 0 when nothing failed, 1 when some
entries failed again (they stay for the next replay), 2 on an error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lifeline.settings import Settings
from lifeline.targets.config import load_targets
from lifeline.targets.kafka_records import KafkaRecordReader, client_config
from lifeline.targets.replay import ReplayReport, SqliteLedger, replay
from lifeline.wording import counted

DEFAULT_CONFIG = Path("config/targets.yaml")
LEDGER = Path("targets") / "replay-ledger.sqlite3"
EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(subparsers: Any) -> None:
    """Register ``replay`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "replay",
        help="re-deliver a target's dead letters",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--target", required=True, help="target name in the config")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"targets config YAML (default: {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for the deliveries (default: until all end)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    """Replay ``args.target``'s dead letters and print what happened."""
    config = load_targets(args.config)
    target = config.target(args.target)
    reader = KafkaRecordReader(client_config(settings.broker), config.dead_letter_topic)
    ledger = SqliteLedger(settings.state_path / LEDGER)
    try:
        report = replay(target, reader, ledger, timeout=args.timeout)
    finally:
        ledger.close()
    print(summary(report))
    return EXIT_OK if not report.failed and report.finished else EXIT_FAILED


def summary(report: ReplayReport) -> str:
    """The lines ``lifeline replay`` prints for ``report``."""
    lines = [
        f"target {report.target}: {counted(report.found, 'dead letter')}, "
        f"{report.delivered} delivered, {report.skipped} already delivered, "
        f"{len(report.failed)} failed"
    ]
    if not report.finished:
        lines.append("timed out: deliveries still under way were stopped")
    lines += [
        f"  failed {f.event_id}: {f.reason} ({f.last_error})" for f in report.failed
    ]
    return "\n".join(lines)
