"""The webhook target of the chaos suite: a fake SaaS that can fail for a while.

On top of :class:`~tests.targets.fake_saas.FakeSaaS` (one effect per
Idempotency-Key) it can fail every request for a stretch of wall-clock time,
and it counts the repeats of a key it suppressed: what a target without
idempotency would have done twice.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.targets.fake_saas import Act, FakeSaaS

PATH = "/hooks"
SECRET = "chaos-hmac-secret"
HMAC_ENV = "LIFELINE_CHAOS_HMAC"
EVENTS = (
    "CustomerCreated",
    "CustomerMerged",
    "OrderPlaced",
    "InvoicePosted",
    "PaymentFailed",
    "LifecycleStageChanged",
)


def targets_yaml(url: str) -> str:
    """A targets config that rides out a minute-long outage of the target."""
    return (
        "targets:\n"
        "  - name: chaos\n"
        f"    url: {url}\n"
        f"    events: [{', '.join(EVENTS)}]\n"
        f"    hmac_secret_env: {HMAC_ENV}\n"
        "    connect_timeout: 1\n"
        "    timeout: 2\n"
        "    retry: {max_attempts: 100, base_delay: 0.1, max_delay: 2,"
        " deadline: 600}\n"
        "    breaker: {failure_threshold: 5, open_seconds: 2}\n"
        "    limits: {max_in_flight: 4}\n"
    )


@dataclass
class ChaosSaaS(FakeSaaS):
    """A FakeSaaS with timed outages and a count of suppressed repeats.

    During an outage every request fails with 503, except every
    ``applied_every``-th, whose effect happens although the answer is 502
    (the target did the work but could not say so): its retry must not
    make the effect happen again.
    """

    max_requests: int = 100_000
    applied_every: int = 5
    suppressed: Counter[str] = field(default_factory=Counter)
    _outage_until: float = 0.0
    _outage_requests: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_for(self, seconds: float) -> None:
        """Fail every request for the next ``seconds`` of wall-clock time."""
        self._outage_until = time.monotonic() + seconds

    @property
    def failing(self) -> bool:
        """True while an outage lasts."""
        return time.monotonic() < self._outage_until

    def _next_act(self, method: str, path: str) -> Act:
        if not self.failing:
            return super()._next_act(method, path)
        with self._count_lock:
            self._outage_requests += 1
            applied = self._outage_requests % self.applied_every == 0
        return Act(status=502, apply=True) if applied else Act(status=503)

    def _apply(self, key: str, method: str, path: str, body: Any) -> dict[str, Any]:
        with self._lock:
            repeat = (method, path, key) in self._by_key
        if repeat:
            with self._count_lock:
                self.suppressed[key] += 1
        return super()._apply(key, method, path, body)


def start_target(folder: Path) -> tuple[ChaosSaaS, dict[str, str]]:
    """A running target and the environment a deliveries flow needs for it."""
    target = ChaosSaaS(SECRET.encode())
    target.start()
    config = folder / "targets.yaml"
    config.write_text(targets_yaml(target.url(PATH)))
    env = {"LIFELINE_TARGETS_FILE": str(config), HMAC_ENV: SECRET}
    return target, env
