"""The order-window step of the golden flow: bursts to the resolver, late aside.

::

    row changes ─ orders, order_lines ─ order_windows ─┬─ bursts ─> resolver
                                                       └─ late lines ─> late topic

One key holds every window, so the watermark covers the whole ERP. The
window logic is :mod:`lifeline.join.windows`; this module runs it on a
timer so that a quiet stream still closes its windows.
"""

from __future__ import annotations

from collections.abc import Iterable

import bytewax.operators as op
from bytewax.operators import KeyedStream
from bytewax.outputs import Sink

from lifeline.emit.late_sink import LateLineSink
from lifeline.flows.cdc import kafka_config
from lifeline.flows.timed import timed_flat_map
from lifeline.join.clusters import RESOLVER_KEY, ResolverItem
from lifeline.join.latest import RowChange
from lifeline.join.windows import (
    WINDOW_TABLES,
    LateLine,
    OrderWindows,
    WindowConfig,
    WindowOutput,
)
from lifeline.settings import Settings

WINDOWS_KEY = "order_windows"


class OrderWindowStep:
    """A :class:`~lifeline.flows.timed.TimedStep` over :class:`OrderWindows`."""

    def __init__(self, config: WindowConfig) -> None:
        self.config = config

    def on_item(
        self, state: OrderWindows | None, value: list[RowChange]
    ) -> tuple[OrderWindows, Iterable[WindowOutput]]:
        """Take a batch of order and line changes."""
        windows = state if state is not None else OrderWindows()
        return windows, _nonempty(windows.take(value, self.config))

    def on_timer(self, state: OrderWindows, idle_for: float) -> Iterable[WindowOutput]:
        """Close every window once the input has been idle long enough."""
        if idle_for < self.config.idle_timeout:
            return ()
        return _nonempty(state.close(self.config, everything=True))

    def on_eof(self, state: OrderWindows) -> Iterable[WindowOutput]:
        """The input ended: close every window."""
        return _nonempty(state.close(self.config, everything=True))

    def next_timer(self, state: OrderWindows) -> float | None:
        """While anything waits, look again after the idle timeout."""
        return self.config.idle_timeout if state.open else None


def _nonempty(output: WindowOutput) -> list[WindowOutput]:
    return [output] if output.bursts or output.late else []


def order_bursts(
    rows: KeyedStream[list[RowChange]],
    settings: Settings,
    late_sink: Sink[LateLine] | None = None,
) -> KeyedStream[list[ResolverItem]]:
    """Coalesced orders, keyed for the resolver; late lines go to ``late_sink``.

    ``late_sink`` defaults to the ``topics.late`` topic.
    """
    erp = settings.topics.erp_prefix
    step = OrderWindowStep(WindowConfig.from_settings(settings.windows))
    changes = op.filter_map("to_order_windows", rows, lambda kv: _ours(kv[1], erp))
    windows = timed_flat_map("order_windows", changes, step)
    late = op.flat_map("late_lines", windows, lambda kv: kv[1].late)
    op.output(
        "late_out",
        late,
        late_sink or LateLineSink(kafka_config(settings), settings.topics.late),
    )
    return op.filter_map("bursts_to_resolver", windows, lambda kv: _bursts(kv[1]))


def _ours(changes: list[RowChange], erp: str) -> tuple[str, list[RowChange]] | None:
    mine = [c for c in changes if c.system == erp and c.table in WINDOW_TABLES]
    return (WINDOWS_KEY, mine) if mine else None


def _bursts(output: WindowOutput) -> tuple[str, list[ResolverItem]] | None:
    bursts: list[ResolverItem] = list(output.bursts)
    return (RESOLVER_KEY, bursts) if bursts else None
