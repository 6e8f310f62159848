"""Events/s of the skeleton and golden flows in one process, no broker.

Feeds Debezium JSON records (with schemas; half ERP customers, half identity
users sharing their emails) through each flow on Bytewax's testing source and
sinks, so the figure is the flow's own cost: decode, order and dedupe,
resolve, golden records, events (not Kafka or Redis I/O).

    PYTHONPATH=. .venv/bin/python bench/flow_inprocess.py --events 20000
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main
from tests.factories import customer, user

from lifeline.decode.records import KafkaRecord
from lifeline.flows.collector import tune_collector
from lifeline.flows.golden import build_golden_flow
from lifeline.flows.skeleton import build_flow
from lifeline.settings import Settings


def records(events: int, batch_size: int) -> list[list[KafkaRecord]]:
    batches: list[list[KafkaRecord]] = []
    batch: list[KafkaRecord] = []
    for i in range(events):
        email = f"p{i // 2}@example.com"
        if i % 2:
            batch.append(customer(i, email, 100 + i, name=f"Person {i // 2}", offset=i))
        else:
            batch.append(user(f"u-{i}", email, 1000 + i, offset=i))
        if len(batch) == batch_size:
            batches.append(batch)
            batch = []
    return batches + ([batch] if batch else [])


def flows(batches: list[list[KafkaRecord]]) -> dict[str, Dataflow]:
    sink: list[Any] = []
    settings = Settings()
    return {
        "skeleton": build_flow(
            settings,
            source=TestingSource(batches),
            cache_sink=TestingSink(sink),
            dead_letter_sink=TestingSink(sink),
        ),
        "golden": build_golden_flow(
            settings,
            source=TestingSource(batches),
            row_sink=TestingSink(sink),
            golden_sink=TestingSink(sink),
            event_sink=TestingSink(sink),
            dead_letter_sink=TestingSink(sink),
            audit_sink=TestingSink(sink),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    batches = records(args.events, args.batch)
    tune_collector()  # as the flow processes do (dataflows/*.py)
    for name, flow in flows(batches).items():
        began = time.perf_counter()
        run_main(flow)  # type: ignore[no-untyped-call]
        print(f"{name}: {args.events / (time.perf_counter() - began):,.0f} events/s")


if __name__ == "__main__":
    main()
