"""The fake-customer generator: deterministic, consistent, realistically messy."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.samples import seed
from lifeline.samples.records import ErpCustomer, IdentityUser, SeedData, column_names
from lifeline.samples.schema import split_statements, sql_text

CENT = Decimal("0.01")
FAKE_DOMAIN = re.compile(r"(^|\.)(example\.(com|org|net)|[a-z0-9-]+\.example)$")


@cache
def thousand() -> SeedData:
    return seed.generate(1000, seed=7)


def _customers(data: SeedData) -> dict[str, ErpCustomer]:
    return {customer.customer_no: customer for customer in data.customers}


def _users(data: SeedData) -> dict[str, IdentityUser]:
    return {user.id: user for user in data.users}


def _normalised(email: str | None) -> str | None:
    return email.strip().lower() if email is not None else None


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert seed.generate(150, seed=3) == seed.generate(150, seed=3)
    assert seed.generate(150, seed=3) != seed.generate(150, seed=4)


def test_generating_1000_parties_takes_well_under_a_second() -> None:
    began = time.monotonic()
    seed.generate(1000, seed=1)
    assert time.monotonic() - began < 2.0


def test_zero_parties_give_empty_tables_and_negative_is_refused() -> None:
    assert all(count == 0 for count in seed.generate(0).counts().values())
    with pytest.raises(ValueError, match="zero or more"):
        seed.generate(-1)


def test_about_sixty_percent_exist_in_both_systems() -> None:
    data = thousand()
    both = [p for p in data.parties if p.customer_nos and p.user_ids]
    erp_only = [p for p in data.parties if p.customer_nos and not p.user_ids]
    identity_only = [p for p in data.parties if p.user_ids and not p.customer_nos]
    assert 0.55 <= len(both) / 1000 <= 0.65
    assert 0.2 <= len(erp_only) / 1000 <= 0.3
    assert 0.1 <= len(identity_only) / 1000 <= 0.2


def test_every_variation_occurs_in_a_thousand() -> None:
    seen = Counter(v for party in thousand().parties for v in party.variations)
    assert set(seen) == set(seed.VARIATIONS)
    assert seen["email_case"] >= 50
    assert seen["external_id"] >= 100


def test_email_case_and_whitespace_variants_normalise_to_the_same_address() -> None:
    data = thousand()
    customers, users = _customers(data), _users(data)
    checked = 0
    for party in data.parties:
        wanted = {"email_case", "email_whitespace"} & set(party.variations)
        if not wanted or not party.user_ids or "shared_mailbox" in party.variations:
            continue
        if "email_different" in party.variations:
            continue
        erp_email = customers[party.customer_nos[0]].email
        identity_email = users[party.user_ids[0]].email
        assert erp_email != identity_email
        assert _normalised(erp_email) == _normalised(identity_email)
        checked += 1
    assert checked >= 50


def test_nicknames_typos_and_name_forms_make_names_differ() -> None:
    data = thousand()
    customers, users = _customers(data), _users(data)
    differing = 0
    persons = [
        p for p in data.parties if p.kind == "person" and p.customer_nos and p.user_ids
    ]
    for party in persons:
        legal = customers[party.customer_nos[0]].legal_name
        user = users[party.user_ids[0]]
        plain = f"{user.given_name} {user.family_name}"
        messy = {"nickname", "name_typo", "name_form", "ascii_name"}
        if messy & set(party.variations):
            differing += legal != plain
        else:
            assert legal == plain
    assert differing >= 50


def test_external_ids_point_at_the_partys_own_erp_customer() -> None:
    data = thousand()
    links = {
        (link.user_id, link.external_id)
        for link in data.external_ids
        if link.system == "erp"
    }
    linked_parties = [p for p in data.parties if "external_id" in p.variations]
    assert linked_parties
    for party in linked_parties:
        assert (party.user_ids[0], party.customer_nos[0]) in links
    assert len(links) == len(linked_parties)


def test_some_companies_lack_a_tax_id_and_some_payments_fail() -> None:
    data = thousand()
    assert any(c.tax_id is None for c in data.customers)
    failed = [p for p in data.payments if p.status == "failed"]
    assert failed
    assert all(p.failure_reason for p in failed)
    assert all(p.failure_reason is None for p in data.payments if p not in failed)


def test_contact_data_is_fake() -> None:
    data = thousand()
    emails = [u.email for u in data.users] + [
        c.email for c in data.customers if c.email is not None
    ]
    for email in emails:
        domain = email.strip().lower().rsplit("@", 1)[1]
        assert FAKE_DOMAIN.search(domain), domain
    for org in data.organisations:
        assert org.domain is None or org.domain.endswith(".example")


def test_amounts_add_up() -> None:
    data = thousand()
    lines_by_order: dict[int, list[Decimal]] = {}
    for line in data.order_lines:
        amount = (line.quantity * line.unit_price).quantize(CENT, ROUND_HALF_UP)
        lines_by_order.setdefault(line.order_id, []).append(amount)
    orders = {order.id: order for order in data.orders}
    for order in data.orders:
        assert order.total == sum(lines_by_order[order.id], Decimal(0))
    for invoice in data.invoices:
        if invoice.order_id is not None:
            assert invoice.amount == orders[invoice.order_id].total
        assert invoice.due_on > invoice.issued_on
    paid = {p.invoice_id for p in data.payments if p.status == "received"}
    invoices = {invoice.id: invoice for invoice in data.invoices}
    assert paid == {i.id for i in data.invoices if i.status == "paid"}
    for payment in data.payments:
        if payment.status == "received":
            assert payment.amount == invoices[payment.invoice_id].amount


def test_prospects_have_no_orders() -> None:
    data = thousand()
    prospects = {c.id for c in data.customers if c.status == "prospect"}
    assert prospects
    assert not [o for o in data.orders if o.customer_id in prospects]


def test_row_fields_match_the_sql_columns() -> None:
    scripts = sql_text("erp.sql") + sql_text("identity.sql")
    statements = {
        match.group(1): body
        for body in split_statements(scripts)
        if (match := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", body))
    }
    data = thousand()
    for table, rows in {**data.erp_tables(), **data.identity_tables()}.items():
        body = statements[table]
        for column in column_names(type(rows[0])):
            assert re.search(rf"^\s+{column}\s", body, re.MULTILINE), (table, column)


def test_values_fit_their_columns() -> None:
    data = thousand()
    limits = {
        "customer_no": 20,
        "legal_name": 200,
        "tax_id": 32,
        "email": 254,
        "phone": 40,
        "billing_street": 200,
        "billing_city": 100,
        "billing_postal_code": 20,
    }
    for customer in data.customers:
        for column, limit in limits.items():
            value = getattr(customer, column)
            assert value is None or len(value) <= limit, (column, value)
        assert customer.billing_country is None or len(customer.billing_country) == 2
        assert customer.credit_limit == customer.credit_limit.quantize(CENT)
    assert all(len(o.order_no) <= 20 for o in data.orders)
    assert all(len(i.invoice_no) <= 20 for i in data.invoices)
    assert all(len(line.sku) <= 40 for line in data.order_lines)
    assert all(len(p.method) <= 20 for p in data.payments)


def test_timestamps_are_utc_with_millisecond_precision() -> None:
    data = thousand()
    moments = [c.created_at for c in data.customers] + [
        u.updated_at for u in data.users
    ]
    moments += [p.paid_at for p in data.payments]
    for moment in moments:
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)
        assert moment.microsecond % 1000 == 0
    assert all(c.updated_at >= c.created_at for c in data.customers)
    assert all(u.updated_at >= u.created_at for u in data.users)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=0, max_value=80), seed_value=st.integers())
def test_keys_are_unique_and_references_resolve(n: int, seed_value: int) -> None:
    data = seed.generate(n, seed=seed_value)
    customer_ids = {c.id for c in data.customers}
    order_ids = {o.id for o in data.orders}
    invoice_ids = {i.id for i in data.invoices}
    user_ids = {u.id for u in data.users}
    org_ids = {o.id for o in data.organisations}
    assert len(customer_ids) == len(data.customers)
    assert len({c.customer_no for c in data.customers}) == len(data.customers)
    assert len({o.order_no for o in data.orders}) == len(data.orders)
    assert len({i.invoice_no for i in data.invoices}) == len(data.invoices)
    assert len(user_ids) == len(data.users)
    assert len({(m.user_id, m.org_id) for m in data.memberships}) == len(
        data.memberships
    )
    assert len({(e.system, e.external_id) for e in data.external_ids}) == len(
        data.external_ids
    )
    assert len({(line.order_id, line.line_no) for line in data.order_lines}) == len(
        data.order_lines
    )
    assert {o.customer_id for o in data.orders} <= customer_ids
    assert {line.order_id for line in data.order_lines} <= order_ids
    assert {i.customer_id for i in data.invoices} <= customer_ids
    assert {i.order_id for i in data.invoices if i.order_id is not None} <= order_ids
    assert {p.invoice_id for p in data.payments} <= invoice_ids
    assert {m.user_id for m in data.memberships} <= user_ids
    assert {m.org_id for m in data.memberships} <= org_ids
    assert {e.user_id for e in data.external_ids} <= user_ids
    customer_nos = {c.customer_no for c in data.customers}
    erp_links = {e.external_id for e in data.external_ids if e.system == "erp"}
    assert erp_links <= customer_nos
    assert len(data.parties) == n
    for party in data.parties:
        assert set(party.customer_nos) <= customer_nos
        assert set(party.user_ids) <= user_ids
        assert party.customer_nos or party.user_ids


def test_subscriptions_follow_their_customers() -> None:
    data = thousand()
    status = {c.id: c.status for c in data.customers}
    subscriptions = data.subscriptions
    assert {s.status for s in subscriptions} == {"active", "cancelled", "expired"}
    assert any(s.renewed_at is not None for s in subscriptions)
    for sub in subscriptions:
        assert status[sub.customer_id] != "prospect"
        assert (sub.status == "active") == (status[sub.customer_id] != "closed")
        assert sub.ends_on is None or sub.ends_on > sub.starts_on
        assert sub.seats >= 1
        assert len(sub.product_code) <= 40 and len(sub.plan_code) <= 40
        if sub.renewed_at is not None:
            assert sub.ends_on is not None
            assert sub.starts_on < sub.renewed_at.date() < sub.ends_on
        assert sub.updated_at.date() >= sub.starts_on
    assert (
        seed.generate(50, seed=3).subscriptions
        == seed.generate(50, seed=3).subscriptions
    )


def test_load_report_tells_inserted_rows_from_those_already_there() -> None:
    offered = {"erp.customers": 3, "identity.users": 5, "erp.orders": 4}
    rerun = seed.Loaded(
        offered=offered,
        inserted={"erp.customers": 1, "identity.users": 0, "erp.orders": 2},
    )
    assert seed.load_report(5, 9, rerun) == (
        "generated 5 fake customers (seed 9): inserted 1 ERP customer, "
        "0 identity users; 2 ERP customers and 5 identity users were already "
        "there, left as they were"
    )
    assert rerun.already_there("erp.orders") == 2


def test_load_report_of_a_fresh_database_mentions_nothing_already_there() -> None:
    offered = {"erp.customers": 1, "identity.users": 2}
    fresh = seed.Loaded(offered=offered, inserted=offered)
    assert seed.load_report(2, 7, fresh) == (
        "generated 2 fake customers (seed 7): inserted 1 ERP customer, 2 identity users"
    )
