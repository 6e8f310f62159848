"""The pair rule: each way two records link, and the traps that must not."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.resolve.config import DEFAULT_CONFIG, ResolutionConfig
from lifeline.resolve.rules import EMAIL, EXPLICIT, SHARED, TAX, link, tax_relation
from lifeline.resolve.synthetic import generate
from tests.unit.resolve.helpers import keys

CFG = DEFAULT_CONFIG
ANNA = {"first_name": "Anna", "last_name": "Müller", "country": "DE"}


def test_explicit_link_holds_whatever_the_names_say() -> None:
    erp = keys("erp:C-1", name="Müller Consulting GmbH")
    user = keys("identity:u-1", first_name="Tobias", links=["erp:C-1"])
    assert link(erp, user, CFG) is EXPLICIT
    assert link(user, erp, CFG) is EXPLICIT


def test_shared_link_two_records_claim_the_same_reference() -> None:
    a = keys("billing:B-1", name="Anna Müller", links=["crm:77"])
    b = keys("identity:u-1", **ANNA, links=["crm:77", "helpdesk:HD-1"])
    assert link(a, b, CFG) is SHARED


def test_tax_id_links_spaced_prefixed_and_bare_forms() -> None:
    a = keys("erp:C-1", company="Nordwind GmbH", tax_id="DE 123 456 789")
    b = keys("billing:B-1", company="Nordwind", tax_id="123456789", country="DE")
    c = keys("billing:B-2", company="Nordwind", tax_id="123456789")
    assert link(a, b, CFG) is TAX
    assert link(a, c, CFG) is TAX


def test_tax_relation() -> None:
    assert tax_relation("DE1", "DE1") == 1
    assert tax_relation("DE123", "123") == 1
    assert tax_relation("DE123", "FR123") == -1
    assert tax_relation("DE123", "") == 0


def test_email_links_when_names_agree_despite_case_and_nickname() -> None:
    erp = keys("erp:C-1", name="Müller, Katharina", email=" K.Mueller@Example.com ")
    user = keys(
        "identity:u-1",
        first_name="Kathi",
        last_name="Mueller",
        email="k.mueller@example.com",
    )
    assert link(erp, user, CFG) is EMAIL


def test_email_links_when_one_side_has_no_name() -> None:
    a = keys("erp:C-1", name="Anna Müller", email="anna@example.com")
    b = keys("billing:B-1", email="anna@example.com")
    assert link(a, b, CFG) is EMAIL


def test_family_members_sharing_an_email_stay_apart() -> None:
    anna = keys("erp:C-1", name="Anna Müller", email="muellers@example.com")
    tobias = keys(
        "identity:u-1",
        first_name="Tobias",
        last_name="Müller",
        email="muellers@example.com",
        phone="+49 30 5551234",
    )
    assert link(anna, tobias, CFG) is None


def test_spouses_with_other_family_names_sharing_an_email_stay_apart() -> None:
    a = keys("erp:C-1", name="Anna Müller", email="home@example.com")
    b = keys(
        "identity:u-1", first_name="Anna", last_name="Schulz", email="home@example.com"
    )
    assert link(a, b, CFG) is None


def test_a_company_and_its_owner_stay_apart() -> None:
    shared = {
        "email": "anna@mueller-consulting.example",
        "phone": "030 5551234",
        "street": "Lindenstraße 4",
        "postal_code": "10115",
        "country": "DE",
    }
    company = keys("erp:C-1", company="Müller Consulting GmbH", **shared)
    owner = keys("billing:B-1", name="Anna Müller", **shared)
    assert link(company, owner, CFG) is None


def test_a_role_mailbox_is_not_enough() -> None:
    a = keys("erp:C-1", company="Nordwind Logistik GmbH", email="info@nordwind.example")
    b = keys("billing:B-1", company="Sturm Bau AG", email="info@nordwind.example")
    assert link(a, b, CFG) is None


def test_role_mailbox_at_the_company_domain_with_the_same_name_links() -> None:
    a = keys("erp:C-1", company="Nordwind Logistik GmbH", email="info@nordwind.example")
    b = keys("billing:B-1", company="Nordwind Logistik", email="INFO@nordwind.example")
    hit = link(a, b, CFG)
    assert hit is not None
    assert hit.rule == "fuzzy"
    assert set(hit.matched_keys) == {"name", "email", "email_domain"}


def test_fuzzy_name_and_phone_link_across_forms_and_a_typo() -> None:
    erp = keys("erp:C-1", name="Dr. Anna Muller", phone="030 5551234", country="DE")
    user = keys("identity:u-1", **ANNA, phone="+49305551234")
    hit = link(erp, user, CFG)
    assert hit is not None
    assert hit.rule == "fuzzy"
    assert hit.matched_keys == ("name", "phone")
    assert hit.score >= CFG.link_threshold


def test_fuzzy_name_and_address_link_a_record_without_email() -> None:
    a = keys(
        "erp:C-1",
        name="Anna Müller",
        street="Lindenstr. 4",
        postal_code="10115",
        city="Berlin",
    )
    b = keys(
        "billing:B-1",
        name="ANNA MUELLER",
        street="Lindenstraße 4",
        postal_code="10115",
        city="Berlin",
    )
    hit = link(a, b, CFG)
    assert hit is not None
    assert hit.matched_keys == ("name", "address")


def test_a_name_alone_never_links() -> None:
    a = keys("erp:C-1", name="Anna Müller", city="Berlin", country="DE")
    b = keys("identity:u-1", **ANNA, city="Berlin")
    assert link(a, b, CFG) is None


def test_a_reused_phone_with_another_name_does_not_link() -> None:
    a = keys("erp:C-1", name="Anna Müller", phone="+49 30 5551234")
    b = keys("billing:B-1", name="Lukas Becker", phone="030 5551234", country="DE")
    assert link(a, b, CFG) is None


def test_conflicting_tax_ids_outweigh_name_and_phone() -> None:
    a = keys("erp:C-1", company="Nordwind GmbH", tax_id="DE111111111", phone="+4930555")
    b = keys("billing:B-1", company="Nordwind", tax_id="DE222222222", phone="+4930555")
    assert link(a, b, CFG) is None


def test_threshold_comes_from_the_config() -> None:
    a = keys("erp:C-1", name="Anna Müller", phone="+49 30 5551234")
    b = keys("identity:u-1", **ANNA, phone="+49305551234")
    assert link(a, b, CFG) is not None
    strict = ResolutionConfig(link_threshold=0.9)
    assert link(a, b, strict) is None


SAMPLE = [keys(r.ref, **r.fields) for r in generate(150, seed=3)]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(SAMPLE) - 1), st.integers(0, len(SAMPLE) - 1))
def test_link_is_symmetric(i: int, j: int) -> None:
    there, back = link(SAMPLE[i], SAMPLE[j], CFG), link(SAMPLE[j], SAMPLE[i], CFG)
    assert there == back


def test_link_is_symmetric_on_every_sample_pair_that_links() -> None:
    for a, b in itertools.combinations(SAMPLE, 2):
        if (there := link(a, b, CFG)) is not None:
            assert link(b, a, CFG) == there
