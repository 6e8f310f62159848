"""Labeled fake customers across ERP, identity and billing, for benchmarks.

Every record carries ``truth``, the id of the customer it really belongs
to, and ``traits``, the noise and traps applied to it. Customers are made
from the sample vocabularies (fake names, reserved domains, fictional phone
ranges); nothing here is personal data.

Noise, per customer and system: email case and whitespace, a second email
address, shared role mailboxes, typos, name forms (``Family, Given``,
titles, initials, upper case), nicknames, ASCII spelling of umlauts, phone
formats, spaced tax ids, missing fields, abbreviated streets, a moved
address in billing, duplicate ERP rows, explicit cross-system links.

Traps, each a *different* customer on purpose: a family member sharing the
mailbox, address and often the phone of a person; the owner of a company,
privately, with the same name and often the company's phone, address or
mailbox; a phone number reused by an unrelated customer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from lifeline.samples import _fakes as fake
from lifeline.samples._vocabulary import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    SHARED_MAILBOXES,
    Country,
)

SYSTEMS = ("erp", "identity", "billing")
_STREET_SHORT = (
    ("straße", "str."), ("strasse", "str."), ("Street", "St"), ("Road", "Rd"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LabeledRecord:
    """One source record and the customer it truly belongs to."""

    system: str
    id: str
    fields: dict[str, Any]
    truth: str
    traits: tuple[str, ...]

    @property
    def ref(self) -> str:
        """``system:id``."""
        return f"{self.system}:{self.id}"

    def line(self) -> dict[str, Any]:
        """The record as a ``lifeline resolve`` input line."""
        return {"system": self.system, "id": self.id, "fields": self.fields}


@dataclass(slots=True)
class _Customer:
    truth: str
    kind: str
    country: Country
    person: fake.Person
    email: str
    phone: str
    address: tuple[str, str, str]  # street, city, postal code
    company: str | None = None
    legal_form: str | None = None
    domain: str | None = None
    tax_id: str | None = None
    trap: str | None = None
    refs: dict[str, str] = field(default_factory=dict)
    noise: dict[str, str] = field(default_factory=dict)  # noise -> its system


@dataclass(slots=True)
class _Draft:
    """A record being made: its fields and the traits applied so far."""

    system: str
    fields: dict[str, Any]
    traits: list[str] = field(default_factory=list)


def generate(customers: int, seed: int = 7) -> list[LabeledRecord]:
    """Records of ``customers`` base customers plus trap customers, shuffled.

    The same ``customers`` and ``seed`` always give the same records.
    """
    return _Generator(seed).run(customers)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.emails: set[str] = set()
        self.domains: set[str] = set()
        self.customers: list[_Customer] = []
        self.records: list[LabeledRecord] = []
        self.counters = {"erp": 1000, "identity": 0, "billing": 500}

    def run(self, n: int) -> list[LabeledRecord]:
        for _ in range(n):
            self._with_traps(self._customer())
        for customer in self.customers:
            self._emit(customer)
        self.rng.shuffle(self.records)
        return self.records

    # --- customers ----------------------------------------------------------

    def _customer(self) -> _Customer:
        rng = self.rng
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        person = fake.person(rng, country)
        customer = _Customer(
            truth=f"t-{len(self.customers) + 1}",
            kind="company" if rng.random() < 0.5 else "person",
            country=country,
            person=person,
            email="",
            phone=fake.national_number(rng, country),
            address=self._address(country),
        )
        if customer.kind == "company":
            customer.company = fake.company_name(rng, country, person)
            customer.legal_form = rng.choice(country.legal_forms)
            customer.domain = self._domain(customer.company)
            customer.tax_id = fake.tax_id(rng, country)
        customer.email = self._unique_email(person, customer.domain)
        if rng.random() < 0.03 and self.customers:
            customer.phone = rng.choice(self.customers).phone
            customer.trap = "reused_phone"
        self.customers.append(customer)
        return customer

    def _with_traps(self, customer: _Customer) -> None:
        roll = self.rng.random()
        if customer.kind == "person" and roll < 0.08:
            self._family_member(customer)
        elif customer.kind == "company" and roll < 0.15:
            self._owner(customer)

    def _family_member(self, of: _Customer) -> None:
        rng, who = self.rng, of.person
        names = [g for g in of.country.given_names if g[:2] != who.given[:2]]
        given = rng.choice(names)
        member = fake.Person(given, None, who.family, None)
        phone = (
            of.phone if rng.random() < 0.5 else fake.national_number(rng, of.country)
        )
        self._trap_customer(of, member, "family", of.email, phone, of.address)

    def _owner(self, company: _Customer) -> None:
        rng = self.rng
        email = company.email
        if rng.random() >= 0.3:
            email = self._unique_email(company.person, None)
        phone = company.phone
        if rng.random() >= 0.5:
            phone = fake.national_number(rng, company.country)
        address = company.address
        if rng.random() >= 0.4:
            address = self._address(company.country)
        self._trap_customer(company, company.person, "owner", email, phone, address)

    def _trap_customer(
        self,
        of: _Customer,
        person: fake.Person,
        trap: str,
        email: str,
        phone: str,
        address: tuple[str, str, str],
    ) -> None:
        self.customers.append(
            _Customer(
                truth=f"t-{len(self.customers) + 1}",
                kind="person",
                country=of.country,
                person=person,
                email=email,
                phone=phone,
                address=address,
                trap=trap,
            )
        )

    def _address(self, country: Country) -> tuple[str, str, str]:
        rng = self.rng
        return (
            fake.street(rng, country),
            rng.choice(country.cities),
            fake.digits(rng, country.postal_pattern),
        )

    def _domain(self, company: str) -> str:
        domain = fake.company_domain(company)
        while domain in self.domains:
            stem = domain.removesuffix(".example")
            domain = f"{stem}-{self.rng.randint(2, 99)}.example"
        self.domains.add(domain)
        return domain

    def _unique_email(self, who: fake.Person, domain: str | None) -> str:
        email = fake.email_for(self.rng, who, domain)
        while email in self.emails:
            local, _, host = email.partition("@")
            email = f"{local}{self.rng.randint(2, 999)}@{host}"
        self.emails.add(email)
        return email

    # --- records ------------------------------------------------------------

    def _emit(self, customer: _Customer) -> None:
        rng = self.rng
        chances = {"erp": 0.75, "identity": 0.75, "billing": 0.6}
        if customer.trap in ("family", "owner"):
            chances = {"erp": 0.2, "identity": 0.8, "billing": 0.6}
        systems = [s for s in SYSTEMS if rng.random() < chances[s]]
        systems = systems or [rng.choice(SYSTEMS)]
        # Like the sample seed: a typo and a second address in one system.
        for noise, chance in (("typo", 0.12), ("other_email", 0.07)):
            if rng.random() < chance:
                customer.noise[noise] = rng.choice(systems)
        for system in systems:
            self._record(customer, system)
        if "erp" in systems and rng.random() < 0.03:
            customer.noise.pop("typo", None)
            self._record(customer, "erp", duplicate=True)

    def _record(
        self, customer: _Customer, system: str, *, duplicate: bool = False
    ) -> None:
        make = {"erp": self._erp, "identity": self._identity, "billing": self._billing}
        draft = _Draft(system, {})
        make[system](customer, draft)
        if duplicate:
            draft.traits.append("duplicate")
            draft.fields.pop("email", None)
        self.counters[system] += self.rng.randint(1, 3)
        prefix = {"erp": "C-", "identity": "u-", "billing": "B-"}[system]
        record_id = f"{prefix}{self.counters[system]}"
        customer.refs.setdefault(system, record_id)
        if customer.trap:
            draft.traits.append(customer.trap)
        self.records.append(
            LabeledRecord(
                system, record_id, draft.fields, customer.truth, tuple(draft.traits)
            )
        )

    def _erp(self, customer: _Customer, draft: _Draft) -> None:
        self._name(customer, draft)
        self._contact(customer, draft, role_mailbox=0.3)
        self._tax(customer, draft, present=0.8)
        self._place(customer, draft, moved=0.0)

    def _identity(self, customer: _Customer, draft: _Draft) -> None:
        rng, who = self.rng, customer.person
        draft.fields.update(first_name=who.given, last_name=who.family)
        if who.nickname and rng.random() < 0.5:
            draft.fields["first_name"] = who.nickname
            draft.traits.append("nickname")
        if customer.noise.get("typo") == "identity":
            draft.fields["last_name"] = fake.typo(rng, who.family)
            draft.traits.append("typo")
        if customer.company:
            draft.fields["company"] = self._org_name(customer)
        self._email(customer, draft, role_mailbox=0.0)
        if rng.random() < 0.5:
            draft.fields["phone"] = fake.phone_e164(customer.country, customer.phone)
        if rng.random() < 0.9:
            draft.fields["country"] = customer.country.code
        self._link(customer, draft, "erp", 0.35)

    def _billing(self, customer: _Customer, draft: _Draft) -> None:
        self._name(customer, draft)
        self._contact(customer, draft, role_mailbox=0.4, phone=0.4)
        self._tax(customer, draft, present=0.7)
        self._place(customer, draft, moved=0.15)
        if not self._link(customer, draft, "identity", 0.25):
            self._link(customer, draft, "erp", 0.15)

    # --- fields ---------------------------------------------------------------

    def _name(self, customer: _Customer, draft: _Draft) -> None:
        rng = self.rng
        typo = customer.noise.get("typo") == draft.system
        if customer.company:
            base = (
                fake.typo_in_words(rng, customer.company) if typo else customer.company
            )
            name = f"{base} {customer.legal_form}"
            if rng.random() < 0.3:
                name = fake.company_name_form(rng, base, customer.legal_form or "")
                draft.traits.append("name_form")
            key = "company"
        else:
            who = customer.person
            if typo:
                who = fake.Person(
                    who.given, who.middle, fake.typo(rng, who.family), None
                )
            name = f"{who.given} {who.family}"
            if rng.random() < 0.3:
                name = fake.person_name_form(rng, who)
                draft.traits.append("name_form")
            key = "name"
        if typo:
            draft.traits.append("typo")
        if fake.fold(name) != name and rng.random() < 0.3:
            name = fake.fold(name)
            draft.traits.append("ascii_name")
        draft.fields[key] = name

    def _org_name(self, customer: _Customer) -> str:
        company, roll = customer.company or "", self.rng.random()
        if roll < 0.55:
            return company
        if roll < 0.8:
            return f"{company} {customer.legal_form}"
        return company.lower() if roll < 0.9 else fake.fold(company)

    def _contact(
        self,
        customer: _Customer,
        draft: _Draft,
        role_mailbox: float,
        phone: float = 0.8,
    ) -> None:
        self._email(customer, draft, role_mailbox)
        if self.rng.random() < phone:
            national, country = customer.phone, customer.country
            style = self.rng.choice(
                (fake.phone_international, fake.phone_e164, fake.phone_national)
            )
            draft.fields["phone"] = style(country, national)

    def _email(self, customer: _Customer, draft: _Draft, role_mailbox: float) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            draft.traits.append("no_email")
            return
        email = customer.email
        if customer.domain and rng.random() < role_mailbox:
            email = f"{rng.choice(SHARED_MAILBOXES)}@{customer.domain}"
            draft.traits.append("role_email")
        elif customer.noise.get("other_email") == draft.system:
            email = self._unique_email(customer.person, None)
            draft.traits.append("other_email")
        if rng.random() < 0.25:
            email = fake.mixed_case(rng, email)
            draft.traits.append("email_case")
        if rng.random() < 0.12:
            email = fake.padded(rng, email)
            draft.traits.append("email_whitespace")
        draft.fields["email"] = email

    def _tax(self, customer: _Customer, draft: _Draft, present: float) -> None:
        if customer.tax_id is None or self.rng.random() >= present:
            return
        tax = customer.tax_id
        if self.rng.random() < 0.3:
            tax = fake.spaced_tax_id(tax)
            draft.traits.append("tax_format")
        draft.fields["tax_id"] = tax

    def _place(self, customer: _Customer, draft: _Draft, moved: float) -> None:
        rng = self.rng
        street, city, postal = customer.address
        if rng.random() < moved:
            street, city, postal = self._address(customer.country)
            draft.traits.append("moved")
        for long, short in _STREET_SHORT:
            if long in street and rng.random() < 0.3:
                street = street.replace(long, short)
                draft.traits.append("street_short")
        draft.fields.update(
            street=street,
            city=city,
            postal_code=postal,
            country=customer.country.code,
        )

    def _link(self, customer: _Customer, draft: _Draft, to: str, chance: float) -> bool:
        target = customer.refs.get(to)
        if target is None or self.rng.random() >= chance:
            return False
        draft.fields["links"] = [f"{to}:{target}"]
        draft.traits.append("link")
        return True
