"""The broker killed and restarted mid-stream, on durable (s3://) storage.

The session's broker keeps topics in memory, and a restart of it loses
every topic (docs/streaming-engineers.md says what ``stack up`` then resets
and what is lost). This scenario runs a second, durable deployment beside
the session's: its own object store (moto), broker, Connect worker, golden
and deliveries flows and webhook target, on free ports and under
``state/test-stack-<slot>-durable``, reading the session's databases through
its own replication slot and binlog client, and writing the session's Redis
under its own key prefix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.capture.apply import apply_connectors
from lifeline.flows.runner import FlowProcess
from lifeline.live import postgres_connection
from lifeline.settings import Settings
from lifeline.stack.manager import Stack
from tests.chaos.faults import restart_broker
from tests.chaos.harness import Harness
from tests.chaos.load import Background
from tests.chaos.target import start_target
from tests.conftest import ROOT, SLOT
from tests.ports import free_port

pytestmark = pytest.mark.stack


def durable_env() -> dict[str, str]:
    """Settings of the durable deployment, as LIFELINE_* variables."""
    return {
        "LIFELINE_STATE_DIR": str(ROOT / "state" / f"test-stack-{SLOT}-durable"),
        "LIFELINE_BROKER__PORT": str(free_port()),
        "LIFELINE_BROKER__STORAGE_URL": "s3://lifeline-chaos/",
        "LIFELINE_S3__PORT": str(free_port()),
        "LIFELINE_CONNECT__PORT": str(free_port()),
        "LIFELINE_CONNECT__GROUP_ID": f"lifeline-connect-durable-{SLOT}",
        "LIFELINE_POSTGRES__MANAGED": "false",
        "LIFELINE_POSTGRES__SLOT_NAME": f"lifeline_chaos_{SLOT}",
        "LIFELINE_MARIADB__MANAGED": "false",
        "LIFELINE_MARIADB__SERVER_ID": str(284054 + 10 * SLOT),
        "LIFELINE_REDIS__MANAGED": "false",
        "LIFELINE_CACHE_PREFIX": "llchaos",
        "LIFELINE_METRICS__PORT": "0",
    }


@contextlib.contextmanager
def environment(extra: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``extra`` set, restored afterwards."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def durable(stack_settings: Settings, tmp_path: Path) -> Iterator[Harness]:
    """The durable deployment, running; torn down and its slot dropped after."""
    env = durable_env()
    with environment(env):
        settings = Settings()
    shutil.rmtree(settings.state_path, ignore_errors=True)
    target, target_env = start_target(tmp_path)
    stack = Stack(settings)
    flows = [
        FlowProcess(settings, "golden", env=env),
        FlowProcess(settings, "deliveries", env={**env, **target_env}),
    ]
    try:
        stack.up()
        apply_connectors(settings)
        for flow in flows:
            flow.start()
        yield Harness(settings, target, deliveries_env={**env, **target_env})
    finally:
        for flow in flows:
            flow.stop()
        stack.down(purge=True)
        target.stop()
        _drop_slot(stack_settings, settings.postgres.slot_name)
        shutil.rmtree(settings.state_path, ignore_errors=True)


def _drop_slot(settings: Settings, slot: str) -> None:
    with postgres_connection(settings) as pg:
        pg.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            (slot,),
        )
        pg.commit()


def test_broker_kill_9_and_restart_on_durable_storage(durable: Harness) -> None:
    settings = durable.settings
    load = durable.load("broker")
    with Background(load):
        time.sleep(2)
        restart_broker(settings, kill=True)
        restarted = time.monotonic()
        time.sleep(3)
    problems = durable.cache_settled(load)
    assert not problems, f"no catch-up after the broker restart: {problems}"
    caught_up = round(time.monotonic() - restarted, 1)
    durable.verify(load, caught_up_seconds=caught_up, waves=load.waves)
    load.close()
