"""A keyed stateful step that also acts on a wall-clock timer and at EOF.

:func:`timed_flat_map` runs a :class:`TimedStep`: like
:func:`~lifeline.flows.stateful.stateful_flat_map` (state snapshotted as a
pickle) plus two more calls. Bytewax calls ``on_timer`` once
``next_timer`` seconds have passed without new input for the key, and
``on_eof`` when the input ends (tests, bounded sources). How long the key
has been idle is measured here, on the monotonic clock, and is not part of
the snapshot: after a restart the idle time counts from the resume.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

import bytewax.operators as op
from bytewax.operators import KeyedStream, StatefulLogic

S = TypeVar("S")
V = TypeVar("V")
W = TypeVar("W")
V_contra = TypeVar("V_contra", contravariant=True)
W_co = TypeVar("W_co", covariant=True)


class TimedStep(Protocol[S, V_contra, W_co]):
    """What a timed step does; every method may change ``state`` in place."""

    def on_item(self, state: S | None, value: V_contra) -> tuple[S, Iterable[W_co]]:
        """The new state and what to emit for one upstream item."""
        ...

    def on_timer(self, state: S, idle_for: float) -> Iterable[W_co]:
        """What to emit when the timer fired; ``idle_for``: seconds of no input."""
        ...

    def on_eof(self, state: S) -> Iterable[W_co]:
        """What to emit when the input has ended."""
        ...

    def next_timer(self, state: S) -> float | None:
        """Seconds from now until ``on_timer`` is due; None: no timer."""
        ...


class TimedLogic(StatefulLogic[V, W, bytes], Generic[S, V, W]):
    """Bytewax's logic for one key of a :class:`TimedStep`."""

    def __init__(
        self,
        step: TimedStep[S, V, W],
        state: S | None,
        clock: Callable[[], float],
    ) -> None:
        self._step = step
        self._state = state
        self._clock = clock
        self._last_input = clock()

    def on_item(self, value: V) -> tuple[Iterable[W], bool]:
        """Run the step on one item; the key's idle time starts again."""
        self._state, emit = self._step.on_item(self._state, value)
        self._last_input = self._clock()
        return emit, StatefulLogic.RETAIN

    def on_notify(self) -> tuple[Iterable[W], bool]:
        """The timer fired: tell the step how long the key has been idle."""
        if self._state is None:
            return (), StatefulLogic.RETAIN
        idle_for = self._clock() - self._last_input
        return self._step.on_timer(self._state, idle_for), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[W], bool]:
        """The input ended."""
        if self._state is None:
            return (), StatefulLogic.RETAIN
        return self._step.on_eof(self._state), StatefulLogic.RETAIN

    def notify_at(self) -> datetime | None:
        """When the step's timer is due (wall clock), or None."""
        if self._state is None:
            return None
        delay = self._step.next_timer(self._state)
        return None if delay is None else datetime.now(UTC) + timedelta(seconds=delay)

    def snapshot(self) -> bytes:
        """The step's state as a pickle (the idle time is not in it)."""
        return pickle.dumps(self._state, protocol=pickle.HIGHEST_PROTOCOL)


def timed_flat_map(
    step_id: str,
    up: KeyedStream[V],
    step: TimedStep[S, V, W],
    clock: Callable[[], float] = time.monotonic,
) -> KeyedStream[W]:
    """Run ``step`` per key with pickled snapshots, a timer and an EOF call."""

    def build(resume: bytes | None) -> TimedLogic[S, V, W]:
        state: S | None = None if resume is None else pickle.loads(resume)  # noqa: S301 - our own snapshot
        return TimedLogic(step, state, clock)

    return op.stateful(step_id, up, build)
