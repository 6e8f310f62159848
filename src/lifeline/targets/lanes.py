"""Per-key ordered work queues served by a pool of worker threads.

A *lane* is the queue of one key (a golden id). A lane hands out its next
item only after the previous one is done, so one customer's items are
handled in order, one at a time, while other customers' lanes go on in
parallel on the other threads.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
OVERFLOW = "overflow"
SHUTDOWN = "shutdown"
_POLL = 0.5


class LaneQueue(Generic[T]):
    """A bounded queue of lanes; every method is thread-safe."""

    def __init__(self, max_items: int) -> None:
        self._max = max_items
        self._lanes: dict[str, deque[T]] = {}
        self._ready: deque[str] = deque()
        self._busy: set[str] = set()
        self._count = 0
        self._closed = False
        self._cond = threading.Condition()

    def put(self, key: str, item: T) -> bool:
        """Queue ``item`` at the end of lane ``key``; False when full or closed."""
        with self._cond:
            if self._closed or self._count >= self._max:
                return False
            lane = self._lanes.setdefault(key, deque())
            lane.append(item)
            self._count += 1
            if key not in self._busy and len(lane) == 1:
                self._ready.append(key)
                self._cond.notify()
            return True

    def take(self, timeout: float) -> tuple[str, T] | None:
        """The next item of a ready lane, marking the lane busy until done().

        Blocks up to ``timeout`` seconds; None on timeout or once closed.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._ready or self._closed, timeout)
            if self._closed or not self._ready:
                return None
            key = self._ready.popleft()
            item = self._lanes[key].popleft()
            self._count -= 1
            self._busy.add(key)
            return key, item

    def done(self, key: str) -> None:
        """The item taken from lane ``key`` is finished; the lane may go on."""
        with self._cond:
            self._busy.discard(key)
            if self._lanes.get(key):
                self._ready.append(key)
            else:
                self._lanes.pop(key, None)
            self._cond.notify_all()

    def drop_lane(self, key: str) -> list[T]:
        """Remove and return every item still queued in lane ``key``."""
        with self._cond:
            items = list(self._lanes.pop(key, ()))
            self._count -= len(items)
            if key in self._ready:
                self._ready.remove(key)
            self._cond.notify_all()
            return items

    def close(self) -> list[T]:
        """Refuse new items, wake every taker; return the items still queued."""
        with self._cond:
            self._closed = True
            items = [item for lane in self._lanes.values() for item in lane]
            self._lanes.clear()
            self._ready.clear()
            self._count = 0
            self._cond.notify_all()
            return items

    def wait_idle(self, timeout: float | None) -> bool:
        """Block until nothing is queued or busy; False after ``timeout``."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._count == 0 and not self._busy, timeout
            )

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        with self._cond:
            return self._closed

    @property
    def queued(self) -> int:
        """Items waiting (not yet taken)."""
        with self._cond:
            return self._count

    @property
    def in_flight(self) -> int:
        """Items taken and not yet done."""
        with self._cond:
            return len(self._busy)


class LanePool(Generic[T]):
    """Worker threads serving a :class:`LaneQueue` with ``handle(key, item)``.

    ``reject(item, reason)`` receives what cannot be handled: ``overflow``
    when the queue is full, ``shutdown`` for what is still queued at stop
    or offered after it.
    An exception from ``handle`` or ``reject`` is logged and the thread goes
    on with the next item.
    """

    def __init__(
        self,
        name: str,
        threads: int,
        max_queue: int,
        handle: Callable[[str, T], None],
        reject: Callable[[T, str], None],
    ) -> None:
        self.name = name
        self.queue: LaneQueue[T] = LaneQueue(max_queue)
        self._handle = handle
        self._reject = reject
        self._threads = [
            threading.Thread(target=self._run, name=f"lifeline-{name}-{i}", daemon=True)
            for i in range(threads)
        ]

    def start(self) -> None:
        """Start the worker threads."""
        for thread in self._threads:
            thread.start()

    def offer(self, key: str, item: T) -> bool:
        """Queue ``item`` on lane ``key``; when full, reject it (overflow)."""
        if self.queue.put(key, item):
            return True
        reason = SHUTDOWN if self.queue.closed else OVERFLOW
        self._guarded(self._reject, item, reason)
        return False

    def stop(self, timeout: float) -> None:
        """Close the queue, reject what is queued, join the threads.

        Callers stop in-flight work first (the couriers' stop event), so the
        join is bounded by one request timeout.
        """
        for item in self.queue.close():
            self._guarded(self._reject, item, SHUTDOWN)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def _run(self) -> None:
        while True:
            taken = self.queue.take(_POLL)
            if taken is None:
                if self.queue.closed:
                    return
                continue
            key, item = taken
            try:
                self._guarded(self._handle, key, item)
            finally:
                self.queue.done(key)

    def _guarded(self, call: Callable[..., None], *args: object) -> None:
        try:
            call(*args)
        except Exception:
            logger.exception("worker step failed pool=%s", self.name)
