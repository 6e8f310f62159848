"""Real CDC: database changes through Debezium, the broker and the flow to Redis."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import orjson
import pytest
import redis

from lifeline.emit.cache_keys import email_view_key
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    mariadb_connection,
    postgres_connection,
    watch,
)
from lifeline.settings import Settings

pytestmark = pytest.mark.stack


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _view(settings: Settings, email: str) -> dict[str, Any] | None:
    client = redis.Redis(**settings.redis.client_kwargs())
    raw = client.get(email_view_key(settings.cache_prefix, email))
    return None if raw is None else orjson.loads(raw)


def _view_members(settings: Settings, email: str, want: set[str]) -> set[str]:
    """The view's members once they equal ``want``, or what they are at timeout.

    Views are written one step after rows, so a row being visible does not
    yet mean its view is.
    """
    deadline = time.monotonic() + 20
    members: set[str] = set()
    while time.monotonic() < deadline:
        view = _view(settings, email)
        members = set() if view is None else set(view["members"])
        if members == want:
            break
        time.sleep(0.02)
    return members


def test_erp_insert_update_delete_reach_redis(stack_settings: Settings) -> None:
    tag = _tag()
    with mariadb_connection(stack_settings) as conn:
        erp = ErpChanges(stack_settings, conn)
        created = erp.insert(f"C-{tag}", f"Test {tag} AG", f"erp.{tag}@example.com")
        updated = erp.update_credit(created.row_id, Decimal("4321.09"))
        (seen,) = watch(stack_settings, [updated])
        assert seen.cached is not None, "update never reached Redis"
        row = seen.cached["row"]
        assert row["customer_no"] == f"C-{tag}"
        assert row["credit_limit"] == "4321.09"
        assert row["email"] == f"erp.{tag}@example.com"
        want = {f"erp:customers:{created.row_id}"}
        assert _view_members(stack_settings, f"erp.{tag}@example.com", want) == want
        (gone,) = watch(stack_settings, [erp.delete(created.row_id)])
    assert gone.seen_at_ms is not None, "delete never removed the row from Redis"
    assert _view_members(stack_settings, f"erp.{tag}@example.com", set()) == set()
    assert _view(stack_settings, f"erp.{tag}@example.com") is None


def test_identity_insert_update_delete_reach_redis(stack_settings: Settings) -> None:
    tag = _tag()
    with postgres_connection(stack_settings) as conn:
        identity = IdentityChanges(stack_settings, conn)
        created = identity.insert(f"u-{tag}", f"id.{tag}@example.org", "Ann", "Lee")
        renamed = identity.rename(created.row_id, "Annie")
        (seen,) = watch(stack_settings, [renamed])
        assert seen.cached is not None, "update never reached Redis"
        assert seen.cached["row"]["given_name"] == "Annie"
        assert seen.cached["row"]["family_name"] == "Lee"
        (gone,) = watch(stack_settings, [identity.delete(created.row_id)])
    assert gone.seen_at_ms is not None, "delete never removed the row from Redis"


def test_view_joins_both_systems_on_normalised_email(stack_settings: Settings) -> None:
    tag = _tag()
    email = f"joined.{tag}@example.net"
    with (
        mariadb_connection(stack_settings) as my,
        postgres_connection(stack_settings) as pg,
    ):
        customer = ErpChanges(stack_settings, my).insert(
            f"C-{tag}", "Joined Ltd", email
        )
        user = IdentityChanges(stack_settings, pg).insert(
            f"u-{tag}", f"  {email.upper()} ", "Jo", "Ined"
        )
        watch(stack_settings, [customer, user])
    want = {f"erp:customers:{customer.row_id}", f"identity:users:u-{tag}"}
    assert _view_members(stack_settings, email, want) == want
    view = _view(stack_settings, email)
    assert view is not None
    assert view["email"] == email
