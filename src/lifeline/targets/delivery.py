"""The dispatcher: lifecycle events in, deliveries to every target out.

See docs/targets.md for the full delivery semantics.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from lifeline.errors import RecordError
from lifeline.observe.redact import redact
from lifeline.targets.config import Endpoint, Saga, Target, TargetsConfig
from lifeline.targets.courier import Courier
from lifeline.targets.errors import TargetConfigError
from lifeline.targets.http import EndpointClient, credentials_for
from lifeline.targets.model import BAD_EVENT, Delivery, EventLike
from lifeline.targets.records import DEAD_LETTER_KIND, RecordWriter, now_rfc3339
from lifeline.targets.saga import SagaRunner
from lifeline.targets.stats import Counters, TargetStats
from lifeline.targets.worker import ResultHook, TargetWorker

logger = logging.getLogger(__name__)

Route = TargetWorker | SagaRunner


class Dispatcher:
    """Fans events out to the targets and sagas that subscribe to their type.

    Contract:

    * :meth:`submit` only queues: it never waits for a target, so a slow or
      failing target cannot block the caller or the other targets. A target
      whose queue is full dead-letters the overflow instead.
    * Each target delivers a customer's (golden id's) events one at a time,
      in submission order; other customers go on meanwhile.
    * Every delivery ends exactly once: delivered, or written to
      ``dead_letters`` (sagas: completed, compensated, or written to
      ``exceptions``, which is required when sagas are configured).
      ``on_result`` then sees it (targets only), on the thread that ended
      it (a worker; the caller's on overflow): it must be quick and
      thread-safe.
    * Queues are in memory: what is queued when the process dies is lost
      unless the caller re-submits it (see :meth:`drain`).

    Credentials are read from ``env`` (default: the process environment)
    when the dispatcher is built; a missing one raises TargetConfigError.
    """

    def __init__(
        self,
        config: TargetsConfig,
        dead_letters: RecordWriter,
        exceptions: RecordWriter | None = None,
        *,
        env: Mapping[str, str] | None = None,
        on_result: ResultHook | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._dead_letters = dead_letters
        self._env = os.environ if env is None else env
        self._rng = rng or random.Random()
        self._clock = clock
        self._stop = threading.Event()
        self._clients: list[EndpointClient] = []
        self._started = self._closed = False
        self.routes: dict[str, Route] = {}
        for target in config.targets:
            self.routes[target.name] = self._target(target, on_result)
        for saga in config.sagas:
            if exceptions is None:
                msg = f"saga {saga.name}: the dispatcher has no exception writer"
                raise TargetConfigError(msg)
            self.routes[saga.name] = self._saga(saga, exceptions)

    def start(self) -> None:
        """Start every route's worker threads (once)."""
        if not self._started:
            self._started = True
            for route in self.routes.values():
                route.pool.start()
            logger.info("dispatcher started routes=%s", ",".join(self.routes))

    def submit(self, events: Iterable[EventLike]) -> int:
        """Queue each event for every route subscribed to its type.

        Returns the number of deliveries (event x route) queued. A malformed
        event is dead-lettered with reason ``bad_event`` and no target;
        RecordSinkError when even that is refused.
        """
        queued = 0
        for event in events:
            delivery = self._delivery(event)
            if delivery is None:
                continue
            for route in self.routes.values():
                events_wanted = (
                    route.target.events
                    if isinstance(route, TargetWorker)
                    else route.saga.events
                )
                if delivery.event_type in events_wanted:
                    queued += route.offer(delivery)
        return queued

    def submit_to(self, name: str, events: Iterable[EventLike]) -> int:
        """Queue events for route ``name`` whatever their type (replay)."""
        route = self.routes[name]
        deliveries = (self._delivery(event) for event in events)
        return sum(route.offer(d) for d in deliveries if d is not None)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queue is empty and nothing is in flight.

        Returns False when ``timeout`` seconds passed first. A caller that
        commits input offsets commits them after a successful drain, so
        that a crash re-submits what had not ended (delivered or
        dead-lettered); targets dedupe the re-sent ones by Idempotency-Key.
        """
        end = None if timeout is None else self._clock() + timeout
        for route in self.routes.values():
            left = None if end is None else max(0.0, end - self._clock())
            if not route.pool.queue.wait_idle(left):
                return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Drain up to ``timeout`` seconds, then stop every worker.

        What is still queued or in flight then ends as ``shutdown``
        (dead letters, exception queue). Idempotent.
        """
        if self._closed:
            return
        self._closed = True
        if self._started:
            self.drain(timeout)
        self._stop.set()
        join = max(
            (e.connect_timeout + e.timeout for e in self._endpoints()), default=1.0
        )
        for route in self.routes.values():
            route.pool.stop(join + 1.0)
        for client in self._clients:
            client.close()
        logger.info("dispatcher stopped routes=%s", ",".join(self.routes))

    def stats(self) -> dict[str, TargetStats]:
        """A snapshot of every route's counters, queue and breaker."""
        return {name: route.stats() for name, route in self.routes.items()}

    def __enter__(self) -> Dispatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _target(self, target: Target, on_result: ResultHook | None) -> TargetWorker:
        counters = Counters()
        courier = self._courier(f"target {target.name}", target, counters)
        return TargetWorker(
            target, courier, self._dead_letters,
            counters=counters, on_result=on_result, clock=self._clock,
        )  # fmt: skip

    def _saga(self, saga: Saga, exceptions: RecordWriter) -> SagaRunner:
        counters = Counters()
        couriers = {
            step.name: self._courier(
                f"saga {saga.name} step {step.name}", step, counters,
                saga.limits.rate_per_second,
            )
            for step in saga.steps
        }  # fmt: skip
        return SagaRunner(
            saga, couriers, exceptions, counters=counters, clock=self._clock
        )

    def _courier(
        self,
        owner: str,
        endpoint: Endpoint,
        counters: Counters,
        rate_per_second: float | None = None,
    ) -> Courier:
        if isinstance(endpoint, Target):
            rate_per_second = endpoint.limits.rate_per_second
        client = EndpointClient(endpoint, credentials_for(owner, endpoint, self._env))
        self._clients.append(client)
        return Courier(
            owner, endpoint, client, stop=self._stop, counters=counters,
            rate_per_second=rate_per_second, rng=self._rng, clock=self._clock,
        )  # fmt: skip

    def _endpoints(self) -> list[Endpoint]:
        steps = [step for saga in self.config.sagas for step in saga.steps]
        return [*self.config.targets, *steps]

    def _delivery(self, event: EventLike) -> Delivery | None:
        """The event as a Delivery; a malformed one is dead-lettered, None."""
        if isinstance(event, Delivery):
            return event
        try:
            return Delivery.from_mapping(event)
        except RecordError as exc:
            self._dead_letters.write(
                str(event.get("golden_id") or ""), _bad_event(event, exc.reason)
            )
            logger.warning("bad event dead-lettered reason=%s", exc.reason)
            return None


def _bad_event(event: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """The dead letter of an event that is not one: no target, as it came."""
    raw = orjson.dumps(dict(event), default=str, option=orjson.OPT_NON_STR_KEYS)
    return {
        "kind": DEAD_LETTER_KIND,
        "target": None,
        "event": orjson.loads(raw),
        "attempts": 0,
        "reason": BAD_EVENT,
        "last_error": redact(reason),
        "dead_lettered_at": now_rfc3339(),
    }
