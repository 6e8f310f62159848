"""Lifecycle events from real database changes reach a webhook target once."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lifeline.cache import CacheReader, build_client
from lifeline.flows.runner import FlowProcess
from lifeline.live import ErpChanges, mariadb_connection
from lifeline.settings import Settings
from lifeline.targets import command
from tests.ports import free_port
from tests.targets.fake_saas import Act, Effect, FakeSaaS

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


@pytest.fixture
def failing_targets(
    stack_settings: Settings, tmp_path: Path
) -> Iterator[tuple[FakeSaaS, str, str, Path]]:
    """The deliveries flow sending to a CRM that fails at first and to a
    billing target nothing listens for (connection refused).

    Yields the CRM, the billing target's name and URL, and the config file.
    """
    crm = FakeSaaS(SECRET.encode())
    crm.start()
    billing = f"billing-{uuid.uuid4().hex[:8]}"
    billing_url = f"http://127.0.0.1:{free_port()}/customers"
    config = tmp_path / "targets.yaml"
    config.write_text(
        "targets:\n"
        "  - name: crm\n"
        f"    url: {crm.url('/hooks')}\n"
        "    events: [CustomerCreated]\n"
        "    hmac_secret_env: LIFELINE_E2E_HMAC\n"
        "    retry: {max_attempts: 8, base_delay: 0.05, max_delay: 0.2,"
        " retry_after_cap: 1}\n"
        f"  - name: {billing}\n"
        f"    url: {billing_url}\n"
        "    events: [CustomerCreated]\n"
        "    hmac_secret_env: LIFELINE_E2E_HMAC\n"
        "    connect_timeout: 0.5\n"
        "    retry: {max_attempts: 2, base_delay: 0.05, max_delay: 0.1,"
        " deadline: 5}\n"
        "    breaker: {failure_threshold: 1000}\n"
    )
    os.environ["LIFELINE_E2E_HMAC"] = SECRET
    os.environ["LIFELINE_TARGETS_FILE"] = str(config)
    flow = FlowProcess(Settings(), "deliveries")
    try:
        flow.start()
        yield crm, billing, billing_url, config
    finally:
        flow.stop()
        del os.environ["LIFELINE_TARGETS_FILE"]
        crm.stop()


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _mine(saas: FakeSaaS, path: str, ref: str) -> list[Effect]:
    return [
        e for e in saas.applied(path) if ref in e.body["payload"].get("source_refs", [])
    ]


def _replay(billing: str, config: Path, settings: Settings) -> tuple[int, str]:
    args = argparse.Namespace(target=billing, config=config, timeout=60.0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = command.handle(args, settings)
    return code, out.getvalue()


def test_failing_targets_hold_up_neither_the_cache_nor_each_other_and_replay_heals(
    stack_settings: Settings,
    failing_targets: tuple[FakeSaaS, str, str, Path],
    tmp_path: Path,
) -> None:
    crm, billing, billing_url, config = failing_targets
    crm.script("POST", "/hooks", Act(503), Act(429, retry_after="1"), Act(502))
    tag = uuid.uuid4().hex[:10]
    ref = f"erp:C-{tag}"
    with mariadb_connection(stack_settings) as conn:
        ErpChanges(stack_settings, conn).insert(
            f"C-{tag}", f"Outage {tag} Ltd", f"outage.{tag}@example.com"
        )

    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    assert _wait(lambda: reader.by_source_id(ref) is not None), "not in the cache"
    assert _wait(lambda: len(_mine(crm, "/hooks", ref)) == 1), "CRM never got it"
    (delivered,) = _mine(crm, "/hooks", ref)
    # 503, 429 (Retry-After) and 502 went to the first requests: retried,
    # and the event took effect once (the CRM dedupes by Idempotency-Key).
    assert len(crm.seen("/hooks")) >= 4
    assert all(r.signature_ok for r in crm.seen("/hooks"))

    # The billing target was down: its delivery is in the dead-letter topic.
    # Bring billing up (the operator fixes its URL) and replay.
    billing_server = FakeSaaS(SECRET.encode())
    billing_server.start()
    try:
        fixed = tmp_path / "fixed.yaml"
        fixed.write_text(
            config.read_text().replace(billing_url, billing_server.url("/customers"))
        )

        def replayed() -> bool:
            _replay(billing, fixed, stack_settings)
            return len(_mine(billing_server, "/customers", ref)) == 1

        assert _wait(replayed, timeout=60), "replay never delivered the dead letter"
        code, printed = _replay(billing, fixed, stack_settings)
        assert code == 0, printed
        assert "0 delivered" in printed
        (effect,) = _mine(billing_server, "/customers", ref)
        assert effect.key == delivered.key  # the same event id, the same key
        assert len(_mine(crm, "/hooks", ref)) == 1
    finally:
        billing_server.stop()
