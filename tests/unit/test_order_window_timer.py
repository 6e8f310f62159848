"""The order-window step on its timer: a quiet stream still closes windows."""

from __future__ import annotations

import pickle

from lifeline.decode.position import MYSQL, SourcePosition
from lifeline.flows.order_windows import OrderWindowStep
from lifeline.flows.timed import TimedLogic
from lifeline.join.latest import RowChange
from lifeline.join.windows import OrderWindows, WindowConfig, WindowOutput

T0 = 1_764_800_000_000


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def order(order_id: int) -> RowChange:
    row = {"id": order_id, "order_no": f"O-{order_id}", "customer_id": 1}
    position = SourcePosition(MYSQL, (1, order_id, 0))
    return RowChange("erp", "orders", str(order_id), None, row, position, T0)


def logic(
    clock: Clock, state: OrderWindows | None = None
) -> TimedLogic[OrderWindows, list[RowChange], WindowOutput]:
    step = OrderWindowStep(WindowConfig(idle_timeout=2.0))
    return TimedLogic(step, state, clock)


def test_an_idle_timeout_closes_the_open_windows() -> None:
    clock = Clock()
    windows = logic(clock)
    assert windows.notify_at() is None  # nothing yet: no timer
    emitted, _ = windows.on_item([order(1)])
    assert list(emitted) == []
    assert windows.notify_at() is not None
    clock.now += 1.5
    early, _ = windows.on_notify()
    assert list(early) == []  # quiet for less than the timeout
    clock.now += 0.5
    (output,), _ = windows.on_notify()
    assert [burst.header.row_id for burst in output.bursts] == ["1"]
    assert windows.notify_at() is None


def test_input_restarts_the_idle_time() -> None:
    clock = Clock()
    windows = logic(clock)
    windows.on_item([order(1)])
    clock.now += 1.9
    windows.on_item([order(2)])
    clock.now += 1.9
    assert list(windows.on_notify()[0]) == []


def test_a_resumed_step_counts_idle_time_from_the_resume() -> None:
    clock = Clock()
    windows = logic(clock)
    windows.on_item([order(1)])
    clock.now += 60.0
    resumed = logic(clock, pickle.loads(windows.snapshot()))
    assert list(resumed.on_notify()[0]) == []
    (output,), _ = resumed.on_eof()
    assert [burst.header.row_id for burst in output.bursts] == ["1"]
