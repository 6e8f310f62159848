"""Lifecycle events from real database changes reach a webhook target once."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.flows.runner import FlowProcess
from lifeline.live import ErpChanges, mariadb_connection
from lifeline.settings import Settings
from tests.targets.fake_saas import FakeSaaS

pytestmark = pytest.mark.stack

SECRET = "e2e-hmac-secret"


@pytest.fixture
def crm(stack_settings: Settings, tmp_path: Path) -> Iterator[FakeSaaS]:
    """A fake CRM and the deliveries flow configured to send to it."""
    server = FakeSaaS(SECRET.encode())
    server.start()
    config = tmp_path / "targets.yaml"
    config.write_text(
        "targets:\n"
        "  - name: crm\n"
        f"    url: {server.url('/hooks')}\n"
        "    events: [CustomerCreated]\n"
        "    hmac_secret_env: LIFELINE_E2E_HMAC\n"
        "    retry: {max_attempts: 5, base_delay: 0.05, max_delay: 0.2}\n"
    )
    os.environ["LIFELINE_E2E_HMAC"] = SECRET
    os.environ["LIFELINE_TARGETS_FILE"] = str(config)
    flow = FlowProcess(Settings(), "deliveries")
    try:
        flow.start()
        yield server
    finally:
        flow.stop()
        del os.environ["LIFELINE_TARGETS_FILE"]
        server.stop()


def test_customer_created_is_delivered_exactly_once(
    stack_settings: Settings, crm: FakeSaaS
) -> None:
    tag = uuid.uuid4().hex[:10]
    with mariadb_connection(stack_settings) as conn:
        ErpChanges(stack_settings, conn).insert(
            f"C-{tag}", f"Hook {tag} Ltd", f"hook.{tag}@example.com"
        )
    ref = f"erp:C-{tag}"
    deadline = time.monotonic() + 60
    mine: list[object] = []
    while time.monotonic() < deadline and not mine:
        mine = [
            e
            for e in crm.applied("/hooks")
            if ref in e.body["payload"].get("source_refs", [])
        ]
        time.sleep(0.1)
    assert len(mine) == 1, "CustomerCreated never reached the CRM"
    effect = mine[0]
    assert effect.body["event_type"] == "CustomerCreated"  # type: ignore[attr-defined]
    seen = [r for r in crm.seen("/hooks") if r.key == effect.key]  # type: ignore[attr-defined]
    assert seen and all(r.signature_ok for r in seen)
