"""Waiting for the flows to make a change visible, shared by the e2e tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 60.0
) -> T:
    """``probe()`` again until ``done`` holds for it or ``timeout`` seconds pass.

    Returns the last value probed, so the caller's assertion shows what the
    cache held when time ran out.
    """
    deadline = time.monotonic() + timeout
    found = probe()
    while not done(found) and time.monotonic() < deadline:
        time.sleep(0.05)
        found = probe()
    return found
