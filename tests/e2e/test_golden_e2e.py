"""Golden records and lifecycle events from real changes in both databases."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

import pytest
from confluent_kafka import Consumer

from lifeline.cache import CacheReader, build_client
from lifeline.events.avro import EventCodec
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    mariadb_connection,
    postgres_connection,
)
from lifeline.settings import Settings
from tests.e2e.waiting import wait_for as _wait_for

pytestmark = pytest.mark.stack


def _events_for(settings: Settings, golden_id: str, want: int) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
        }
    )
    consumer.subscribe([settings.topics.lifecycle])
    codec, found = EventCodec(), []
    deadline = time.monotonic() + 30
    while len(found) < want and time.monotonic() < deadline:
        for message in consumer.consume(500, 0.5):
            if message.error() is None and message.key() == golden_id.encode():
                found.append(codec.decode(message.value()))
    consumer.close()
    return found


def test_customer_in_both_systems_becomes_one_golden_record(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:10]
    email = f"golden.{tag}@example.com"
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        # A sole trader: the ERP customer's legal name is the person's name.
        ErpChanges(stack_settings, my).insert(f"C-{tag}", "Greta Gold", email)
        identity = IdentityChanges(stack_settings, pg)
        identity.insert(f"u-{tag}", f" {email.upper()}", "Greta", "Gold")
        both = {f"erp:C-{tag}", f"identity:u-{tag}"}
        record = _wait_for(
            lambda: reader.by_source_id(f"erp:C-{tag}"),
            lambda r: r is not None and set(r.source_ids) == both,
        )
        assert record is not None, "golden record never reached the cache"
        assert set(record.source_ids) == both
        assert record.record["legal_name"] == "Greta Gold"
        assert record.record["given_name"] == "Greta"
        assert reader.by_source_id(f"identity:u-{tag}") == record
        assert [r.golden_id for r in reader.by_email(email)] == [record.golden_id]

        identity.rename(f"u-{tag}", "Gretchen")
        renamed = _wait_for(
            lambda: reader.by_golden_id(record.golden_id),
            lambda r: r is not None and r.record["given_name"] == "Gretchen",
        )
        assert renamed is not None
        assert renamed.record["given_name"] == "Gretchen"
        assert renamed.version > record.version

    kinds = [type(e).__name__ for e in _events_for(stack_settings, record.golden_id, 2)]
    assert kinds[0] == "CustomerCreated"
    assert "CustomerUpdated" in kinds


def test_an_external_id_link_merges_two_golden_records(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:10]
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    erp_ref, user_ref = f"erp:C-{tag}", f"identity:u-{tag}"
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        ErpChanges(stack_settings, my).insert(
            f"C-{tag}", f"Link {tag} Ltd", f"billing.{tag}@example.com"
        )
        identity = IdentityChanges(stack_settings, pg)
        identity.insert(f"u-{tag}", f"person.{tag}@example.org", "Lia", "Link")
        apart = [
            _wait_for(partial(reader.by_source_id, ref), lambda r: r is not None)
            for ref in (erp_ref, user_ref)
        ]
        assert all(r is not None for r in apart), "records never reached the cache"
        ids = {r.golden_id for r in apart if r is not None}
        assert len(ids) == 2, "no shared key, yet already one record"
        identity.link(f"u-{tag}", "erp", f"C-{tag}")
        merged = _wait_for(
            lambda: reader.by_source_id(user_ref),
            lambda r: r is not None and set(r.source_ids) == {erp_ref, user_ref},
        )
    assert merged is not None
    assert set(merged.source_ids) == {erp_ref, user_ref}
    assert reader.by_source_id(erp_ref) == merged
    (absorbed,) = ids - {merged.golden_id}
    redirected = reader.by_golden_id(absorbed)
    assert redirected is not None, "the absorbed golden id does not redirect"
    assert redirected.golden_id == merged.golden_id


def test_order_invoice_and_failed_payment_make_the_customer_past_due(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:8]
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    with mariadb_connection(stack_settings) as conn:
        created = ErpChanges(stack_settings, conn).insert(
            f"C-{tag}", f"Payer {tag} Ltd", f"payer.{tag}@example.com"
        )
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO orders (order_no, customer_id, currency, total)"
                " VALUES (%s, %s, 'EUR', 120.00)",
                (f"O-{tag}", created.row_id),
            )
            order_id = cur.lastrowid
            cur.execute(
                "INSERT INTO invoices (invoice_no, customer_id, order_id, status,"
                " currency, amount, issued_on, due_on)"
                " VALUES (%s, %s, %s, 'posted', 'EUR', 120.00, CURDATE(),"
                " CURDATE() + INTERVAL 30 DAY)",
                (f"I-{tag}", created.row_id, order_id),
            )
            invoice_id = cur.lastrowid
            cur.execute(
                "INSERT INTO payments (invoice_id, amount, status, method,"
                " failure_reason, paid_at) VALUES (%s, 120.00, 'failed', 'card',"
                " 'declined', NOW(3))",
                (invoice_id,),
            )
        conn.commit()
    record = _wait_for(
        lambda: reader.by_source_id(f"erp:C-{tag}"),
        lambda r: r is not None and r.stage == "past_due",
    )
    assert record is not None
    assert record.stage == "past_due"
    kinds = {type(e).__name__ for e in _events_for(stack_settings, record.golden_id, 6)}
    assert {"OrderPlaced", "InvoicePosted", "PaymentFailed"} <= kinds
    assert "LifecycleStageChanged" in kinds


def test_memberships_and_organisations_reach_the_cached_golden_record(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:10]
    user_id, org_id = f"u-{tag}", f"o-{tag}"
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    entry = {"org_id": org_id, "user_id": user_id, "role": "admin"}
    entry |= {"name": f"Org {tag} GmbH", "domain": f"{tag}.example"}
    entry |= {"tax_id": f"DE{tag}", "country": "DE"}

    def organisations() -> Any:
        record = reader.by_source_id(f"identity:{user_id}")
        return None if record is None else record.record.get("organisations", "-")

    with postgres_connection(stack_settings) as pg:
        IdentityChanges(stack_settings, pg).insert(
            user_id, f"member.{tag}@example.org", "Mia", "Member"
        )
        pg.execute(
            "INSERT INTO organisations (id, name, domain, tax_id, country)"
            " VALUES (%s, %s, %s, %s, %s)",
            (org_id, entry["name"], entry["domain"], entry["tax_id"], "DE"),
        )
        pg.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES (%s, %s, 'admin')",
            (user_id, org_id),
        )
        pg.commit()
        joined = _wait_for(organisations, lambda found: found == [entry])
        assert joined == [entry], "the membership never reached the cache"

        pg.execute(
            "UPDATE organisations SET name = %s WHERE id = %s",
            (f"Org {tag} AG", org_id),
        )
        pg.commit()
        renamed = _wait_for(
            organisations, lambda found: found == [entry | {"name": f"Org {tag} AG"}]
        )
        assert renamed == [entry | {"name": f"Org {tag} AG"}]

        pg.execute(
            "DELETE FROM memberships WHERE user_id = %s AND org_id = %s",
            (user_id, org_id),
        )
        pg.commit()
        left = _wait_for(organisations, lambda found: found is None)
        assert left is None, "the deleted membership stayed in the cached record"

    record = reader.by_source_id(f"identity:{user_id}")
    assert record is not None
    updated = [
        event
        for event in _events_for(stack_settings, record.golden_id, 4)
        if type(event).__name__ == "CustomerUpdated"
    ]
    # The membership may have come with the user's CustomerCreated; the rename
    # and the withdrawal are updates of their own.
    assert [e.changed_fields for e in updated][-2:] == [("organisations",)] * 2
    assert updated[-1].profile.organisations is None
