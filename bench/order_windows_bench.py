"""Order windows: changes/s of the window logic alone, and of the golden flow.

The first figure is :class:`lifeline.join.windows.OrderWindows` on batches of
order and line changes (one order and three lines every 10 ms of source
time, so windows close all the time). The second feeds customers, their
orders and lines as Debezium JSON through the whole golden flow in one
process (Bytewax's testing source and sinks: no broker, no Redis).

    PYTHONPATH=. .venv/bin/python bench/order_windows_bench.py --orders 20000
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bytewax.testing import TestingSink, TestingSource, run_main
from tests import factories
from tests.factories import customer, mysql_source

from lifeline.decode.position import MYSQL, SourcePosition
from lifeline.decode.records import KafkaRecord
from lifeline.flows.golden import build_golden_flow
from lifeline.join.latest import RowChange
from lifeline.join.windows import OrderWindows, WindowConfig
from lifeline.settings import Settings

T0 = 1_764_800_000_000
LINES = 3


def changes(orders: int) -> list[RowChange]:
    out: list[RowChange] = []
    for n in range(orders):
        ts = T0 + 10 * n
        header = {"id": n, "order_no": f"O-{n}", "customer_id": n % 500}
        out.append(_change("orders", n, header, ts, len(out)))
        for k in range(1, LINES + 1):
            row = {"id": n * 10 + k, "order_id": n, "line_no": k, "sku": "SW"}
            out.append(_change("order_lines", n * 10 + k, row, ts, len(out)))
    return out


def _change(
    table: str, row_id: int, row: dict[str, Any], ts: int, at: int
) -> RowChange:
    position = SourcePosition(MYSQL, (1, 100 + at, 0))
    return RowChange("erp", table, str(row_id), None, row, position, ts)


def window_logic(orders: int, batch: int) -> float:
    items = changes(orders)
    windows, config = OrderWindows(), WindowConfig()
    began = time.perf_counter()
    bursts = 0
    for start in range(0, len(items), batch):
        bursts += len(windows.take(items[start : start + batch], config).bursts)
    bursts += len(windows.close(config, everything=True).bursts)
    assert bursts == orders, bursts
    return len(items) / (time.perf_counter() - began)


def records(orders: int, batch: int) -> list[list[KafkaRecord]]:
    flat: list[KafkaRecord] = []
    for n in range(orders):
        if n < 500:
            flat.append(customer(n, f"b{n}@example.com", 10 + n, name=f"Buyer {n}"))
        ts = T0 + 10 * n
        header = {"id": n, "order_no": f"O-{n}", "customer_id": n % 500}
        header |= {"status": "open", "currency": "EUR", "total": "30.00"}
        flat.append(_record("orders", header, 1000 + 4 * n, ts))
        for k in range(1, LINES + 1):
            row = {"id": n * 10 + k, "order_id": n, "line_no": k, "sku": "SW"}
            row |= {"quantity": "1.000", "unit_price": "10.00"}
            flat.append(_record("order_lines", row, 1000 + 4 * n + k, ts))
    return [flat[i : i + batch] for i in range(0, len(flat), batch)]


def _record(table: str, row: dict[str, Any], pos: int, ts: int) -> KafkaRecord:
    source = mysql_source(table, pos) | {"ts_ms": ts}
    payload = {"before": None, "after": row, "op": "c", "ts_ms": ts, "source": source}
    return factories.record(f"erp.erp.{table}", {"id": row["id"]}, payload)


def golden_flow(orders: int, batch: int) -> float:
    batches = records(orders, batch)
    sink: list[Any] = []
    flow = build_golden_flow(
        Settings(),
        source=TestingSource(batches),
        row_sink=TestingSink(sink),
        golden_sink=TestingSink(sink),
        event_sink=TestingSink(sink),
        dead_letter_sink=TestingSink(sink),
        audit_sink=TestingSink(sink),
        late_sink=TestingSink(sink),
    )
    count = sum(len(b) for b in batches)
    began = time.perf_counter()
    run_main(flow)  # type: ignore[no-untyped-call]
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    logic = window_logic(args.orders, args.batch)
    print(f"window logic: {logic:,.0f} changes/s")
    flow = golden_flow(args.orders, args.batch)
    print(f"golden flow, orders with {LINES} lines: {flow:,.0f} changes/s")


if __name__ == "__main__":
    main()
