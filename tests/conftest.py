"""One real stack per test session, on its own ports and state directory.

The stack (broker, Kafka Connect with Debezium, PostgreSQL, MariaDB, Redis)
and the skeleton and golden dataflows start once, on first use by a test marked
``stack``, and stop at the end of the session. Tests use unique keys.
Set ``LIFELINE_TEST_KEEP_STACK=1`` to leave it running for a faster rerun,
and ``LIFELINE_TEST_SLOT=N`` to run beside another checkout's suite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# LIFELINE_TEST_SLOT=N (default 0) shifts every port by 10*N and uses its
# own state directory, so several checkouts can run the suite side by side.
SLOT = int(os.environ.get("LIFELINE_TEST_SLOT", "0"))
_SHIFT = 10 * SLOT

TEST_ENV = {
    "LIFELINE_STATE_DIR": str(
        ROOT / "state" / ("test-stack" if SLOT == 0 else f"test-stack-{SLOT}")
    ),
    "LIFELINE_CONNECTORS_DIR": str(ROOT / "connectors"),
    "LIFELINE_BROKER__PORT": str(29092 + _SHIFT),
    "LIFELINE_CONNECT__PORT": str(28083 + _SHIFT),
    "LIFELINE_CONNECT__GROUP_ID": f"lifeline-connect-test-{SLOT}",
    "LIFELINE_POSTGRES__PORT": str(25432 + _SHIFT),
    "LIFELINE_MARIADB__PORT": str(23306 + _SHIFT),
    "LIFELINE_REDIS__PORT": str(26379 + _SHIFT),
    # The flows' metrics endpoints: this port plus 0, 1, 2 (see settings).
    "LIFELINE_METRICS__PORT": str(27100 + _SHIFT),
    "LIFELINE_CACHE_PREFIX": "lltest",
}


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[object]:
    """Settings of the session's running stack with connectors and flow up."""
    os.environ.update(TEST_ENV)
    from lifeline.capture.apply import apply_connectors
    from lifeline.flows.runner import FlowProcess
    from lifeline.samples import schema
    from lifeline.settings import Settings
    from lifeline.stack.manager import Stack

    settings = Settings()
    stack = Stack(settings)
    os.chdir(ROOT)
    stack.up()
    flows = [FlowProcess(settings), FlowProcess(settings, "golden")]
    try:
        schema.apply_schemas(settings)
        apply_connectors(settings)
        for flow in flows:
            flow.start()
        yield settings
    finally:
        if os.environ.get("LIFELINE_TEST_KEEP_STACK") != "1":
            for flow in flows:
                flow.stop()
            stack.down(purge=True)
