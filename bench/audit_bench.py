"""Audit trail: entries built per golden input, and one lineage read from a topic.

Starts its own broker on a free port (state in state/bench-audit), produces
``--entries`` audit entries for ``--records`` golden ids through the audit
sink, then times ``AuditReader.read`` of one golden id: a full scan of the
topic that decodes only that id's entries, ending after the idle timeout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.ports import free_port

from lifeline.audit.entry import (
    AuditEntry,
    FieldDecision,
    SourceChange,
    derive_audit_id,
)
from lifeline.audit.reader import AuditReader
from lifeline.audit.topic import create_audit_topic
from lifeline.emit.audit_sink import AuditSink
from lifeline.golden.step import GoldenOutput
from lifeline.settings import Settings
from lifeline.stack.broker import Broker

STATE = Path(__file__).resolve().parent.parent / "state" / "bench-audit"


def entry(gid: str, n: int) -> AuditEntry:
    now = datetime.now(UTC)
    source = SourceChange(
        system="erp", table="customers", row_id=f"C-{n}",
        position=f"m:{n:016x}", committed_at=now,
    )  # fmt: skip
    fields = tuple(
        FieldDecision(field=name, rule="owner", system="erp", rank=0,
                      position=source.position, digest="b2:0123456789abcdef")
        for name in ("legal_name", "phone", "credit_limit")
    )  # fmt: skip
    version = f"r:{n:020d}"
    return AuditEntry(
        id=derive_audit_id(gid, version, "updated"), golden_id=gid,
        version=version, kind="updated", committed_at=now, recorded_at=now,
        sources=(source,), fields=fields, members=(f"erp:C-{n}",),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--idle-timeout", type=float, default=1.0)
    args = parser.parse_args()
    shutil.rmtree(STATE, ignore_errors=True)
    os.environ["LIFELINE_STATE_DIR"] = str(STATE)
    os.environ["LIFELINE_BROKER__PORT"] = str(free_port())
    settings = Settings()
    broker = Broker(settings)
    broker.start()
    try:
        create_audit_topic(settings)
        config = {"bootstrap.servers": settings.broker.bootstrap_servers}
        sink = AuditSink(config, settings.topics.audit).build_part("audit", "0", None)
        batch = [entry(f"g-{n % args.records:012x}", n) for n in range(args.entries)]
        began = time.perf_counter()
        for start in range(0, len(batch), 5000):
            sink.write_batch(
                [GoldenOutput((), (), audit=tuple(batch[start : start + 5000]))]
            )
        took = time.perf_counter() - began
        sink.close()
        print(f"sink: {args.entries / took:,.0f} entries/s")
        reader = AuditReader(
            config, settings.topics.audit, idle_timeout=args.idle_timeout
        )
        began = time.perf_counter()
        trail = reader.read("g-000000000007")
        took = time.perf_counter() - began
        print(
            f"read one lineage ({len(trail.entries)} entries) from "
            f"{args.entries:,} on the topic: {took:.2f}s, of which "
            f"{args.idle_timeout:.1f}s idle timeout"
        )
    finally:
        broker.stop()
        shutil.rmtree(STATE, ignore_errors=True)


if __name__ == "__main__":
    main()
