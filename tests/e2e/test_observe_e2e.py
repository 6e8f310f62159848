"""Metrics, ``lifeline status`` and logs of the flows running on the real stack."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Producer

from lifeline.cache import CacheReader, build_client
from lifeline.cli import main
from lifeline.flows.runner import FlowProcess
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    mariadb_connection,
    postgres_connection,
)
from lifeline.observe.scrape import Sample, scrape
from lifeline.settings import Settings
from tests.targets.fake_saas import Act, FakeSaaS

pytestmark = pytest.mark.stack


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of ``name``'s series whose labels include ``labels``."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def scrape_until(
    settings: Settings, flow: str, done: Callable[[list[Sample]], bool]
) -> list[Sample]:
    """Scrape ``flow`` until ``done`` holds (at most 60 s; the last scrape)."""
    url = settings.metrics.url_for(flow)
    assert url is not None, f"flow {flow} serves no metrics"
    deadline = time.monotonic() + 60
    samples = scrape(url)
    while not done(samples) and time.monotonic() < deadline:
        time.sleep(0.2)
        samples = scrape(url)
    return samples


def insert_customer_and_invoice(settings: Settings, tag: str, email: str) -> str:
    """An ERP customer with an order and a posted invoice; the customer's row id."""
    with mariadb_connection(settings) as conn:
        created = ErpChanges(settings, conn).insert(
            f"C-{tag}", f"Metrics {tag} Ltd", email
        )
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO orders (order_no, customer_id, currency, total)"
                " VALUES (%s, %s, 'EUR', 80.00)",
                (f"O-{tag}", created.row_id),
            )
            cur.execute(
                "INSERT INTO invoices (invoice_no, customer_id, order_id, status,"
                " currency, amount, issued_on, due_on)"
                " VALUES (%s, %s, %s, 'posted', 'EUR', 80.00, CURDATE(),"
                " CURDATE() + INTERVAL 30 DAY)",
                (f"I-{tag}", created.row_id, cur.lastrowid),
            )
        conn.commit()
    return created.row_id


GOLDEN_SERIES: dict[str, tuple[str, dict[str, str]]] = {
    "customers in": (
        "lifeline_changes_total",
        {"flow": "golden", "system": "erp", "table": "customers", "op": "c"},
    ),
    "invoices in": (
        "lifeline_changes_total",
        {"flow": "golden", "system": "erp", "table": "invoices", "op": "c"},
    ),
    "rows timed": (
        "lifeline_commit_to_cache_seconds_count",
        {"flow": "golden", "cache": "rows"},
    ),
    "golden timed": (
        "lifeline_commit_to_cache_seconds_count",
        {"flow": "golden", "cache": "golden"},
    ),
    "customer created in cache": (
        "lifeline_event_propagation_seconds_count",
        {"event_type": "CustomerCreated", "stage": "cache"},
    ),
    "invoice in cache": (
        "lifeline_event_propagation_seconds_count",
        {"event_type": "InvoicePosted", "stage": "cache"},
    ),
    "customers position": (
        "lifeline_consumer_position",
        {"flow": "golden", "topic": "erp.erp.customers"},
    ),
}


def golden_figures(samples: list[Sample]) -> dict[str, float]:
    return {
        key: total(samples, name, **labels)
        for key, (name, labels) in GOLDEN_SERIES.items()
    }


def test_a_database_change_moves_the_golden_flows_metrics(
    stack_settings: Settings,
) -> None:
    before = golden_figures(scrape_until(stack_settings, "golden", lambda _: True))
    tag = uuid.uuid4().hex[:10]
    insert_customer_and_invoice(stack_settings, tag, f"metrics.{tag}@example.com")
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )

    def moved(samples: list[Sample]) -> bool:
        now = golden_figures(samples)
        return all(now[key] > before[key] for key in before)

    samples = scrape_until(stack_settings, "golden", moved)
    after = golden_figures(samples)
    assert reader.by_source_id(f"erp:C-{tag}") is not None
    assert {key: after[key] > before[key] for key in before} == dict.fromkeys(
        before, True
    )
    rows = {"flow": "golden", "cache": "rows"}
    bucket = "lifeline_commit_to_cache_seconds_bucket"
    assert total(samples, bucket, **rows, le="+Inf") == after["rows timed"]
    assert total(samples, "lifeline_commit_to_cache_seconds_sum", **rows) > 0


def test_status_reports_the_running_stack_and_its_figures(
    stack_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [], report["problems"]
    assert code == 0
    assert {c["state"] for c in report["stack"]} == {"running"}
    assert report["connectors"], "no connector listed"
    assert all(c["state"] == "RUNNING" for c in report["connectors"])
    assert report["slots"], report["slots_note"]
    flows = {flow["flow"]: flow for flow in report["flows"]}
    golden = flows["golden"]["figures"]
    assert golden is not None
    assert golden["changes"] > 0
    assert golden["changes_per_second"] > 0
    assert golden["p99_commit_to_cache_seconds"]["rows"] is not None


# --- deliveries: webhook metrics, and logs free of personal data and secrets


@dataclass(frozen=True)
class Canary:
    """Personal data and secrets a flow must never write to its log."""

    tag: str
    email: str
    family_name: str
    hmac_secret: str
    token: str

    @property
    def needles(self) -> list[str]:
        local_part = self.email.split("@")[0]
        return [
            self.email.lower(),
            local_part.lower(),
            self.family_name.lower(),
            self.hmac_secret.lower(),
            self.token.lower(),
        ]


@pytest.fixture
def canary() -> Canary:
    tag = uuid.uuid4().hex[:10]
    return Canary(
        tag=tag,
        email=f"Quentin.Canary{tag}@Example.com",
        family_name=f"Canaryfamily{tag}",
        hmac_secret=f"hmac-canary-{uuid.uuid4().hex}",
        token=f"token-canary-{uuid.uuid4().hex}",
    )


@pytest.fixture
def crm(stack_settings: Settings, canary: Canary, tmp_path: Path) -> Iterator[FakeSaaS]:
    """A fake CRM, and the deliveries flow sending to it with the canary secrets."""
    server = FakeSaaS(canary.hmac_secret.encode())
    server.start()
    server.script("POST", "/hooks", Act(503))  # one retry, logged nowhere
    config = tmp_path / "targets.yaml"
    config.write_text(
        "targets:\n"
        "  - name: crm\n"
        f"    url: {server.url('/hooks')}\n"
        "    events: [CustomerCreated]\n"
        "    hmac_secret_env: LIFELINE_OBS_HMAC\n"
        "    auth: {type: bearer, token_env: LIFELINE_OBS_TOKEN}\n"
        "    retry: {max_attempts: 5, base_delay: 0.05, max_delay: 0.2}\n"
    )
    env = {
        "LIFELINE_OBS_HMAC": canary.hmac_secret,
        "LIFELINE_OBS_TOKEN": canary.token,
        "LIFELINE_TARGETS_FILE": str(config),
    }
    flow = FlowProcess(stack_settings, "deliveries", env=env)
    try:
        flow.start()
        yield server
    finally:
        flow.stop()
        server.stop()


def poison(settings: Settings, canary: Canary) -> None:
    """A record no decoder can read, holding the canary's email and secret."""
    value = (
        f'{{"payload": {{"after": {{"email": "{canary.email}", '
        f'"password": "{canary.hmac_secret}"}}, not json'
    ).encode()
    producer = Producer({"bootstrap.servers": settings.broker.bootstrap_servers})
    producer.produce("erp.erp.customers", key=b'{"id": -7}', value=value)
    assert producer.flush(10) == 0


def test_deliveries_are_measured_and_no_log_holds_personal_data_or_secrets(
    stack_settings: Settings, canary: Canary, crm: FakeSaaS
) -> None:
    dead_before = total(
        scrape_until(stack_settings, "golden", lambda _: True),
        "lifeline_dead_letters_total",
        flow="golden",
    )
    poison(stack_settings, canary)
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        ErpChanges(stack_settings, my).insert(
            f"C-{canary.tag}", f"Quentin {canary.family_name}", canary.email
        )
        IdentityChanges(stack_settings, pg).insert(
            f"u-{canary.tag}", canary.email, "Quentin", canary.family_name
        )
    ref = f"erp:C-{canary.tag}"
    # The flow starts at the beginning of the lifecycle topic: it delivers the
    # CustomerCreated of every earlier test of the session before this one, a
    # backlog that grows with the suite. Wait while deliveries keep arriving;
    # 90 s without one, or 10 minutes in all, is a failure.
    began = progressed = time.monotonic()
    last_requests = len(crm.seen("/hooks"))
    applied = crm.applied("/hooks")
    mine = [e for e in applied if ref in str(e.body)]
    while not mine:
        now = time.monotonic()
        if now - progressed > 90 or now - began > 600:
            break
        time.sleep(0.2)
        requests = len(crm.seen("/hooks"))
        if requests > last_requests:
            progressed, last_requests = time.monotonic(), requests
        applied = crm.applied("/hooks")
        mine = [e for e in applied if ref in str(e.body)]
    log = FlowProcess(stack_settings, "deliveries").process.log_file
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    assert mine, (
        f"the canary customer never reached the CRM ({len(applied)} deliveries "
        f"in {time.monotonic() - began:.0f} s); deliveries log tail:\n{tail}"
    )
    delivered = "lifeline_webhook_deliveries_total"
    deliveries = scrape_until(
        stack_settings,
        "deliveries",
        lambda s: total(s, delivered, target="crm", outcome="delivered") > 0,
    )
    assert total(deliveries, "lifeline_webhook_attempts_total", result="failed") >= 1
    delay = "lifeline_event_propagation_seconds_count"
    assert total(deliveries, delay, stage="target", target="crm") >= 1
    assert total(deliveries, "lifeline_webhook_circuit_state", state="closed") == 1
    golden = scrape_until(
        stack_settings,
        "golden",
        lambda s: total(s, "lifeline_dead_letters_total", flow="golden") > dead_before,
    )
    assert total(golden, "lifeline_dead_letters_total", flow="golden") > dead_before

    run_dir = stack_settings.state_path / "run"
    for flow in ("skeleton", "golden", "deliveries"):
        text = (run_dir / f"flow-{flow}.log").read_text(errors="replace")
        assert f"event=flow_process_started flow={flow}" in text
        leaked = [needle for needle in canary.needles if needle in text.lower()]
        assert not leaked, f"flow-{flow}.log holds {leaked}"
    golden_log = (run_dir / "flow-golden.log").read_text(errors="replace")
    assert "event=dead_letter " in golden_log  # the poison record was logged
