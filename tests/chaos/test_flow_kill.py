"""kill -9 of the golden and deliveries dataflows mid-stream, then restart."""

from __future__ import annotations

import time

import pytest

from lifeline.flows.runner import FlowProcess
from tests.chaos.faults import kill_flow
from tests.chaos.harness import Harness
from tests.chaos.load import Background

pytestmark = pytest.mark.stack


def test_kill_9_mid_stream_then_restart(harness: Harness) -> None:
    settings = harness.settings
    load = harness.load("kill")
    with Background(load):
        # Past the next snapshot: the replay then covers updates only. A
        # replay that re-reads a record's creation and its link in one batch
        # resolves them without the merge made before the crash
        # (docs/streaming-engineers.md, "Recovery and what it guarantees").
        time.sleep(settings.flows.snapshot_interval + 3)
        kill_flow(settings, "golden")
        kill_flow(settings, "deliveries")
        time.sleep(2)  # the load goes on while the flows are down
    restarted = time.monotonic()
    FlowProcess(settings, "golden").start()
    FlowProcess(settings, "deliveries", env=harness.deliveries_env).start()
    problems = harness.cache_settled(load)
    assert not problems, f"no catch-up after the restart: {problems}"
    caught_up = round(time.monotonic() - restarted, 1)
    for _ in range(2):  # and the restarted flows follow live changes
        load.wave()
    harness.verify(load, caught_up_seconds=caught_up, waves=load.waves)
    load.close()
