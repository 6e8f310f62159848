"""The normalisers: each value's canonical comparison key."""

from __future__ import annotations

import pytest

from lifeline.resolve import normalise as norm
from lifeline.resolve.config import DEFAULT_CONFIG
from lifeline.resolve.rules import given_agreement
from lifeline.samples._vocabulary import NICKNAMES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM\t", "jane.doe@example.com"),
        ("jane+shop@example.com", "jane+shop@example.com"),
        ("jane.doe@example.com.", "jane.doe@example.com"),
        ("no-at-sign.example.com", None),
        ("jane@localhost", None),
        ("jane doe@example.com", None),
        ("a@b@example.com", None),
        ("@example.com", None),
        ("", None),
    ],
)
def test_email_trims_lowercases_and_keeps_tags_and_dots(
    raw: str, expected: str | None
) -> None:
    assert norm.email(raw) == expected


def test_email_strips_plus_tags_only_when_asked() -> None:
    assert norm.email("jo+news@example.org", strip_plus_tags=True) == "jo@example.org"
    assert norm.email("j.o@example.org", strip_plus_tags=True) == "j.o@example.org"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("DE 123 456 789", None, "DE123456789"),
        ("de-123.456.789", "FR", "DE123456789"),
        ("123456789", "DE", "DE123456789"),
        ("123456789", None, "123456789"),
        ("094259216", "GR", "EL094259216"),
        ("ATU 123 456 78", "AT", "ATU12345678"),
        ("12-3456789", "US", "US123456789"),
        ("1 2", "DE", None),
    ],
)
def test_tax_id(raw: str, country: str | None, expected: str | None) -> None:
    assert norm.tax_id(raw, country) == expected


def test_tax_body_drops_the_prefix() -> None:
    assert norm.tax_body("ATU12345678") == "12345678"
    assert norm.tax_body("123") == "123"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+49 30 5551234", None, "+49305551234"),
        ("0049 (30) 555-1234", None, "+49305551234"),
        ("030 5551234", "DE", "+49305551234"),
        ("07700 900123", "GB", "+447700900123"),
        ("503 555-0123", "US", "+15035550123"),
        ("1 503 555 0123", "US", "+15035550123"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("91 555 12 34", "ES", "+34915551234"),
        ("+49 30 5551234 ext. 12", None, "+49305551234"),
        ("030 5551234", None, None),
        ("030 5551234", "ZZ", None),
        ("12", "DE", None),
    ],
)
def test_phone(raw: str, country: str | None, expected: str | None) -> None:
    assert norm.phone(raw, country) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Jürgen-O'Neill ", "juergen oneill"),
        ("MÜLLER", "mueller"),
        ("Élodie Lefèvre", "elodie lefevre"),
        ("Łódź", "lodz"),
        ("Großmann", "grossmann"),
        ("Åberg", "aberg"),
        ("Δημήτρης", "δημητρησ"),  # other scripts stay; casefold unifies sigma
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert norm.fold(text) == expected


@pytest.mark.parametrize(
    ("first", "last", "full", "given", "family"),
    [
        ("Anna", "Müller", "", "anna", "mueller"),
        ("", "", "Anna Müller", "anna", "mueller"),
        ("", "", "Mueller, Anna", "anna", "mueller"),
        ("", "", "Dr. Anna M. Müller", "anna", "mueller"),
        ("", "", "ANNA MÜLLER", "anna", "mueller"),
        ("Sanne", "van den Bosch", "", "sanne", "bosch"),
        ("", "", "Sanne van den Bosch", "sanne", "bosch"),
        ("María José", "García", "", "maria", "garcia"),
        ("", "", "Prof. Müller", "", "mueller"),
        ("", "", "", "", ""),
    ],
)
def test_person_name(first: str, last: str, full: str, given: str, family: str) -> None:
    name = norm.person_name(first, last, full)
    assert (name.given[:1] or ("",))[0] == given
    assert name.family == family


def test_given_forms_add_the_formal_names_of_a_nickname() -> None:
    assert norm.given_forms("bill") == ("bill", "william")
    assert set(norm.given_forms("chris")) >= {"christopher", "christian"}
    assert norm.given_forms("anna") == ("anna",)


@pytest.mark.parametrize(
    ("formal", "nickname"),
    [(formal, nick) for formal, nicks in NICKNAMES.items() for nick in nicks],
)
def test_every_sample_nickname_is_known(formal: str, nickname: str) -> None:
    formal_forms = norm.person_name(formal, "", "").given
    nick_forms = norm.person_name(nickname, "", "").given
    assert given_agreement(formal_forms, nick_forms, DEFAULT_CONFIG) >= 0.9


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Müller Consulting GmbH", "mueller consulting"),
        ("MÜLLER CONSULTING GMBH & CO. KG", "mueller consulting"),
        ("Müller & Schäfer, UG (haftungsbeschränkt)", "mueller schaefer"),
        ("Nordwind Logistyka Sp. z o.o.", "nordwind logistyka"),
        ("Van Dijk B.V.", "van dijk"),
        ("The Oak Trading Ltd", "oak trading"),
        ("GmbH", "gmbh"),
    ],
)
def test_company_name_drops_legal_forms(raw: str, expected: str) -> None:
    assert norm.company_name(raw) == expected


def test_has_legal_form() -> None:
    assert norm.has_legal_form("Blue Leaf S.A.R.L.")
    assert norm.has_legal_form("Oakline Inc.")
    assert not norm.has_legal_form("Anna Müller")
    assert not norm.has_legal_form("AG")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Lindenstraße 12a", ("lindenstrasse", "12a")),
        ("Lindenstr. 12a", ("lindenstrasse", "12a")),
        ("Linden Strasse 12a", ("lindenstrasse", "12a")),
        ("12 Oak Rd", ("oakroad", "12")),
        ("12 Oak Road", ("oakroad", "12")),
        ("", ("", "")),
    ],
)
def test_street(raw: str, expected: tuple[str, str]) -> None:
    assert norm.street(raw) == expected


def test_postal_code_city_country() -> None:
    assert norm.postal_code(" sw1a 1aa ") == "SW1A1AA"
    assert norm.postal_code("62-828") == "62828"
    assert norm.city("Nürnberg") == norm.city("NUERNBERG") == "nuernberg"
    assert norm.country(" de ") == "DE"
    assert norm.country("Deutschland") == "DE"
    assert norm.country("Atlantis") is None
