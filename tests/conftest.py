"""One real stack per test session, on its own ports and state directory.

The stack (broker, Kafka Connect with Debezium, PostgreSQL, MariaDB, Redis)
and the skeleton and golden dataflows start once, on first use by a test marked
``stack``, and stop at the end of the session. Tests use unique keys.
Set ``LIFELINE_TEST_KEEP_STACK=1`` to leave it running for a faster rerun.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TEST_ENV = {
    "LIFELINE_STATE_DIR": str(ROOT / "state" / "test-stack"),
    "LIFELINE_CONNECTORS_DIR": str(ROOT / "connectors"),
    "LIFELINE_BROKER__PORT": "29092",
    "LIFELINE_CONNECT__PORT": "28083",
    "LIFELINE_CONNECT__GROUP_ID": "lifeline-connect-test",
    "LIFELINE_POSTGRES__PORT": "25432",
    "LIFELINE_MARIADB__PORT": "23306",
    "LIFELINE_REDIS__PORT": "26379",
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
