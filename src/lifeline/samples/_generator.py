"""The machinery behind :func:`lifeline.samples.seed.generate`.

First every party is planned (who it is, where it exists, how its records
will differ); ERP rows are made in plan order, then identity rows in a
shuffled order so that user ids do not line up with customer numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lifeline.samples import _fakes as fake
from lifeline.samples._orders import OrderBook
from lifeline.samples._subscriptions import SubscriptionBook
from lifeline.samples._vocabulary import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    SHARED_MAILBOXES,
    Country,
)
from lifeline.samples.records import (
    ErpCustomer,
    IdentityExternalId,
    IdentityMembership,
    IdentityOrganisation,
    IdentityUser,
    Party,
    SeedData,
)

EPOCH = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
HISTORY_DAYS = 700
_PRESENCE = (("both", 60), ("erp", 25), ("identity", 15))
_CUSTOMER_STATUS = (("active", 62), ("prospect", 14), ("on_hold", 8), ("closed", 16))
_CREDIT_LIMITS = (1000, 2500, 5000, 10000, 25000, 50000)
_ALWAYS_POSSIBLE = {
    "email_case": 0.25,
    "email_whitespace": 0.12,
    "email_different": 0.07,
    "erp_no_email": 0.03,
    "name_typo": 0.12,
    "name_form": 0.30,
    "phone_format": 0.40,
    "external_id": 0.35,
}
_COMPANY_ONLY = {"shared_mailbox": 0.30, "no_tax_id": 0.25, "tax_id_format": 0.30}
_NO_EMAIL_CONFLICTS = ("email_case", "email_whitespace", "email_different")


@dataclass(slots=True)
class _Plan:
    """One party before its rows exist; filled in as rows are made."""

    party_id: str
    kind: str
    presence: str
    country: Country
    contact: fake.Person
    company: str | None
    legal_form: str | None
    domain: str | None
    email: str
    phone: str
    tax_id: str | None
    since: datetime
    typo_on_erp: bool
    variations: set[str] = field(default_factory=set)
    customer_nos: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    org_id: str | None = None

    def party(self) -> Party:
        return Party(
            self.party_id,
            self.kind,
            tuple(self.customer_nos),
            tuple(self.user_ids),
            self.org_id,
            tuple(sorted(self.variations)),
        )


class Generator:
    """Builds one :class:`SeedData` from a seed; use once."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._plans: list[_Plan] = []
        self._customers: list[ErpCustomer] = []
        self._orders = OrderBook(self.rng)
        self._subscriptions = SubscriptionBook(
            seed, EPOCH + timedelta(days=HISTORY_DAYS)
        )
        self._users: list[IdentityUser] = []
        self._organisations: list[IdentityOrganisation] = []
        self._memberships: list[IdentityMembership] = []
        self._external_ids: list[IdentityExternalId] = []
        self._customer_no = 1000
        self._user_no = 0
        self._other_ref = 5000

    def run(self, n: int) -> SeedData:
        """Plan ``n`` parties and make all their rows."""
        for index in range(n):
            plan = self._plan(index)
            self._plans.append(plan)
            if plan.presence != "identity":
                self._emit_erp(plan)
        shuffled = list(self._plans)
        self.rng.shuffle(shuffled)
        for plan in shuffled:
            if plan.presence != "erp":
                self._emit_identity(plan)
        return SeedData(
            customers=tuple(self._customers),
            orders=tuple(self._orders.orders),
            order_lines=tuple(self._orders.lines),
            invoices=tuple(self._orders.invoices),
            payments=tuple(self._orders.payments),
            subscriptions=tuple(self._subscriptions.subscriptions),
            users=tuple(self._users),
            organisations=tuple(self._organisations),
            memberships=tuple(self._memberships),
            external_ids=tuple(self._external_ids),
            parties=tuple(plan.party() for plan in self._plans),
        )

    # --- planning -----------------------------------------------------------

    def _plan(self, index: int) -> _Plan:
        rng = self.rng
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        contact = fake.person(rng, country)
        kind = "company" if rng.random() < 0.55 else "person"
        company = (
            fake.company_name(rng, country, contact) if kind == "company" else None
        )
        domain = fake.company_domain(company) if company else None
        is_company = company is not None
        plan = _Plan(
            party_id=f"p-{index + 1}",
            kind=kind,
            presence=fake.weighted(rng, _PRESENCE),
            country=country,
            contact=contact,
            company=company,
            legal_form=rng.choice(country.legal_forms) if is_company else None,
            domain=domain,
            email=fake.email_for(rng, contact, domain),
            phone=fake.national_number(rng, country),
            tax_id=fake.tax_id(rng, country)
            if is_company or rng.random() < 0.1
            else None,
            since=EPOCH + fake.span(rng, HISTORY_DAYS * 0.8),
            typo_on_erp=rng.random() < 0.7,
        )
        if plan.presence == "both":
            plan.variations = self._variations(plan)
        if plan.presence != "identity" and rng.random() < 0.03:
            plan.variations.add("erp_duplicate")
        return plan

    def _variations(self, plan: _Plan) -> set[str]:
        chances = dict(_ALWAYS_POSSIBLE)
        if plan.kind == "company":
            chances.update(_COMPANY_ONLY)
        if plan.contact.nickname:
            chances["nickname"] = 0.5
        if fake.fold(plan.contact.family + (plan.company or "")) != (
            plan.contact.family + (plan.company or "")
        ):
            chances["ascii_name"] = 0.5
        chosen = {name for name, p in chances.items() if self.rng.random() < p}
        if "erp_no_email" in chosen:
            chosen -= {*_NO_EMAIL_CONFLICTS, "shared_mailbox"}
        if "shared_mailbox" in chosen:
            chosen.discard("email_different")
        return chosen

    # --- ERP ----------------------------------------------------------------

    def _emit_erp(self, plan: _Plan) -> None:
        self._erp_customer(plan, plan.variations, duplicate=False)
        if "erp_duplicate" in plan.variations:
            again = {*plan.variations, "name_form"}
            self._erp_customer(plan, again, duplicate=True)

    def _erp_customer(
        self, plan: _Plan, variations: set[str], *, duplicate: bool
    ) -> ErpCustomer:
        rng = self.rng
        self._customer_no += rng.randint(1, 3)
        created = plan.since + fake.span(rng, 30)
        status = "closed" if duplicate and rng.random() < 0.5 else self._status(plan)
        customer = ErpCustomer(
            id=len(self._customers) + 1,
            customer_no=f"C-{self._customer_no}",
            legal_name=self._erp_name(plan, variations),
            tax_id=self._erp_tax_id(plan, variations),
            email=self._erp_email(plan, variations),
            phone=self._erp_phone(plan, variations),
            billing_street=fake.street(rng, plan.country),
            billing_city=rng.choice(plan.country.cities),
            billing_postal_code=fake.digits(rng, plan.country.postal_pattern),
            billing_country=plan.country.code,
            credit_limit=self._credit_limit(plan, status),
            status=status,
            created_at=created,
            updated_at=created + fake.span(rng, _days_left(created)),
        )
        self._customers.append(customer)
        plan.customer_nos.append(customer.customer_no)
        self._orders.add_history(customer, plan.country.currency, _days_left(created))
        self._subscriptions.add(customer)
        return customer

    def _status(self, plan: _Plan) -> str:
        if plan.presence == "erp" and self.rng.random() < 0.3:
            return self.rng.choice(("prospect", "closed"))
        return fake.weighted(self.rng, _CUSTOMER_STATUS)

    def _erp_name(self, plan: _Plan, variations: set[str]) -> str:
        rng, who = self.rng, plan.contact
        typo = "name_typo" in variations and plan.typo_on_erp
        if plan.company is not None:
            base = fake.typo_in_words(rng, plan.company) if typo else plan.company
            name = f"{base} {plan.legal_form}"
            if "name_form" in variations:
                name = fake.company_name_form(rng, base, plan.legal_form or "")
        else:
            if typo:
                who = fake.Person(
                    who.given, who.middle, fake.typo(rng, who.family), None
                )
            if "name_form" in variations:
                name = fake.person_name_form(rng, who)
            else:
                name = f"{who.given} {who.family}"
        return fake.fold(name) if "ascii_name" in variations else name

    def _erp_tax_id(self, plan: _Plan, variations: set[str]) -> str | None:
        if plan.tax_id is None or "no_tax_id" in variations:
            return None
        if "tax_id_format" in variations:
            return fake.spaced_tax_id(plan.tax_id)
        return plan.tax_id

    def _erp_email(self, plan: _Plan, variations: set[str]) -> str | None:
        rng = self.rng
        if "erp_no_email" in variations:
            return None
        email = plan.email
        if "shared_mailbox" in variations and plan.domain:
            email = f"{rng.choice(SHARED_MAILBOXES)}@{plan.domain}"
        elif "email_different" in variations:
            email = fake.other_email(rng, plan.contact, plan.email)
        if "email_case" in variations:
            email = fake.mixed_case(rng, email)
        if "email_whitespace" in variations:
            email = fake.padded(rng, email)
        return email

    def _erp_phone(self, plan: _Plan, variations: set[str]) -> str | None:
        if "phone_format" in variations:
            return fake.phone_national(plan.country, plan.phone)
        if self.rng.random() < 0.2:
            return None
        return fake.phone_international(plan.country, plan.phone)

    def _credit_limit(self, plan: _Plan, status: str) -> Decimal:
        if status == "prospect":
            return Decimal("0.00")
        limit = self.rng.choice(_CREDIT_LIMITS)
        if plan.kind == "person":
            limit //= 5
        return Decimal(limit).quantize(Decimal("0.01"))

    # --- identity -----------------------------------------------------------

    def _emit_identity(self, plan: _Plan) -> None:
        user = self._identity_user(plan, plan.contact, plan.email, plan.phone)
        plan.user_ids.append(user.id)
        if plan.company is not None:
            self._organisation_with_members(plan, user)
        if "external_id" in plan.variations and plan.customer_nos:
            link = IdentityExternalId("erp", plan.customer_nos[0], user.id)
            self._external_ids.append(link)
        if self.rng.random() < 0.08:
            self._other_ref += self.rng.randint(1, 9)
            ref = IdentityExternalId("helpdesk", f"HD-{self._other_ref}", user.id)
            self._external_ids.append(ref)

    def _identity_user(
        self, plan: _Plan, who: fake.Person, email: str, phone: str
    ) -> IdentityUser:
        rng = self.rng
        self._user_no += rng.randint(1, 2)
        given, family = self._identity_names(plan, who)
        created = max(EPOCH, plan.since + fake.span(rng, 90) - timedelta(days=30))
        user = IdentityUser(
            id=f"u-{self._user_no}",
            email=email,
            email_verified=rng.random() < 0.85,
            given_name=given,
            family_name=family,
            display_name=self._display_name(given, family),
            phone=fake.phone_e164(plan.country, phone) if rng.random() < 0.5 else None,
            locale=plan.country.locale if rng.random() < 0.9 else "en-US",
            created_at=created,
            updated_at=created + fake.span(rng, _days_left(created)),
        )
        self._users.append(user)
        return user

    def _identity_names(self, plan: _Plan, who: fake.Person) -> tuple[str, str]:
        given, family = who.given, who.family
        if who is plan.contact:
            if "nickname" in plan.variations and who.nickname:
                given = who.nickname
            if "name_typo" in plan.variations and not plan.typo_on_erp:
                family = fake.typo(self.rng, family)
        return given, family

    def _display_name(self, given: str, family: str) -> str | None:
        roll = self.rng.random()
        if roll < 0.55:
            return f"{given} {family}"
        if roll < 0.75:
            return f"{given} {family[:1]}."
        if roll < 0.9:
            return given
        return None

    def _organisation_with_members(self, plan: _Plan, contact: IdentityUser) -> None:
        rng = self.rng
        org = IdentityOrganisation(
            id=f"o-{len(self._organisations) + 1}",
            name=self._organisation_name(plan),
            domain=plan.domain if rng.random() < 0.9 else None,
            tax_id=plan.tax_id if rng.random() < 0.4 else None,
            country=plan.country.code,
            created_at=contact.created_at,
        )
        self._organisations.append(org)
        plan.org_id = org.id
        role = "owner" if rng.random() < 0.7 else "admin"
        self._memberships.append(
            IdentityMembership(contact.id, org.id, role, contact.created_at)
        )
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            colleague = fake.person(rng, plan.country)
            email = fake.email_for(rng, colleague, plan.domain)
            if email == contact.email:
                continue
            phone = fake.national_number(rng, plan.country)
            user = self._identity_user(plan, colleague, email, phone)
            member_role = "member" if rng.random() < 0.8 else "admin"
            membership = IdentityMembership(
                user.id, org.id, member_role, user.created_at
            )
            self._memberships.append(membership)

    def _organisation_name(self, plan: _Plan) -> str:
        company = plan.company or ""
        roll = self.rng.random()
        if roll < 0.55:
            return company
        if roll < 0.8:
            return f"{company} {plan.legal_form}"
        if roll < 0.9:
            return company.lower()
        return fake.fold(company)


def _days_left(moment: datetime) -> float:
    """Days from ``moment`` to the end of the generated history."""
    end = EPOCH + timedelta(days=HISTORY_DAYS)
    return max((end - moment).total_seconds() / 86_400, 0.0)
