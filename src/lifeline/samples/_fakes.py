"""Small pure helpers that make fake names, addresses and numbers.

Every function draws from the caller's ``random.Random``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta

from lifeline.samples._vocabulary import (
    ASCII_FOLD,
    BRAND_HEADS,
    BRAND_TAILS,
    NICKNAMES,
    PERSONAL_MAIL_DOMAINS,
    TITLES,
    Country,
)

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_LOCAL = re.compile(r"[^a-z0-9._-]+")
_NO_TRUNK_PREFIX = frozenset({"US", "ES", "PL"})


@dataclass(frozen=True, slots=True)
class Person:
    """A fake person: ``nickname`` is what friends call them, if anything."""

    given: str
    middle: str | None
    family: str
    nickname: str | None


def person(rng: random.Random, country: Country) -> Person:
    """Make up a person typical of ``country``."""
    given = rng.choice(country.given_names)
    others = [name for name in country.given_names if name != given]
    middle = rng.choice(others) if rng.random() < 0.3 else None
    nicknames = NICKNAMES.get(given)
    nickname = rng.choice(nicknames) if nicknames else None
    return Person(given, middle, rng.choice(country.family_names), nickname)


def company_name(rng: random.Random, country: Country, owner: Person) -> str:
    """Make up a company name without legal form, e.g. ``Müller Consulting``."""
    business = rng.choice(country.business_words)
    roll = rng.random()
    if roll < 0.5:
        return f"{_capital(owner.family)} {business}"
    if roll < 0.7:
        partner = rng.choice([f for f in country.family_names if f != owner.family])
        return f"{_capital(owner.family)} & {_capital(partner)}"
    return f"{rng.choice(BRAND_HEADS)}{rng.choice(BRAND_TAILS)} {business}"


def fold(text: str) -> str:
    """Spell umlauts and accents in ASCII (``Müller`` -> ``Mueller``)."""
    return text.translate(ASCII_FOLD)


def company_domain(name: str) -> str:
    """Return a reserved-TLD domain for a company: ``mueller-consulting.example``."""
    slug = _NOT_SLUG.sub("-", fold(name).lower().replace("&", "and")).strip("-")
    return f"{slug}.example"


def email_for(rng: random.Random, who: Person, domain: str | None) -> str:
    """Make up a lower-case address for ``who`` at ``domain`` or a personal one."""
    given, family = _local(who.given), _local(who.family)
    patterns = [f"{given}.{family}", f"{given[0]}{family}", f"{given}"]
    if domain is None:
        patterns += [f"{given}{family}{rng.randint(1, 99)}", f"{family}.{given}"]
        domain = rng.choice(PERSONAL_MAIL_DOMAINS)
    return f"{rng.choice(patterns)}@{domain}"


def other_email(rng: random.Random, who: Person, email: str) -> str:
    """Make up a second, different personal address for ``who``."""
    for _ in range(10):
        candidate = email_for(rng, who, None)
        if candidate != email:
            return candidate
    return f"{_local(who.given)}.{rng.randint(100, 999)}@example.net"


def mixed_case(rng: random.Random, email: str) -> str:
    """``email`` with other letter case (``Jane.Doe@Example.com``), never equal."""
    local, _, domain = email.partition("@")
    options = [
        f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain}",
        f"{local}@{domain.upper()}",
        email.upper(),
        f"{local.capitalize()}@{domain.capitalize()}",
    ]
    changed = [option for option in options if option != email]
    return rng.choice(changed) if changed else email.upper()


def padded(rng: random.Random, email: str) -> str:
    """``email`` with whitespace around it, as pasted into a form."""
    return rng.choice((f" {email}", f"{email} ", f"  {email} ", f"{email}\t"))


def typo(rng: random.Random, word: str) -> str:
    """``word`` with one slip: swapped, dropped or doubled letter; never equal."""
    if len(word) < 4:
        return word + word[-1]
    index = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0 and word[index] != word[index + 1]:
        return word[:index] + word[index + 1] + word[index] + word[index + 2 :]
    if kind == 1:
        return word[:index] + word[index + 1 :]
    return word[:index] + word[index] + word[index:]


def typo_in_words(rng: random.Random, text: str) -> str:
    """``text`` with a typo in one of its longer words."""
    words = text.split(" ")
    long_words = [i for i, word in enumerate(words) if len(word) >= 4]
    if not long_words:
        return typo(rng, text)
    index = rng.choice(long_words)
    words[index] = typo(rng, words[index])
    return " ".join(words)


def person_name_form(rng: random.Random, who: Person) -> str:
    """Another way an ERP clerk writes the name: order, initial, title, case."""
    forms = [
        f"{who.family}, {who.given}",
        f"{rng.choice(TITLES)} {who.given} {who.family}",
        f"{who.given} {who.family}".upper(),
    ]
    if who.middle:
        forms += [f"{who.given} {who.middle[0]}. {who.family}"] * 2
    return rng.choice(forms)


def company_name_form(rng: random.Random, company: str, legal_form: str) -> str:
    """Write a company name another way: upper case, comma, no legal form."""
    return rng.choice(
        (
            f"{company} {legal_form}".upper(),
            f"{company}, {legal_form}",
            company,
        )
    )


def national_number(rng: random.Random, country: Country) -> str:
    """Make up a fictional national phone number in the country's grouping."""
    return digits(rng, country.phone_pattern)


def phone_international(country: Country, national: str) -> str:
    """``+49 30 5551234``."""
    return f"{country.dial} {national}"


def phone_e164(country: Country, national: str) -> str:
    """``+49305551234``."""
    return country.dial + "".join(ch for ch in national if ch.isdigit())


def phone_national(country: Country, national: str) -> str:
    """``030 5551234`` (trunk prefix where the country dials one)."""
    return national if country.code in _NO_TRUNK_PREFIX else f"0{national}"


def digits(rng: random.Random, pattern: str) -> str:
    """``pattern`` with each ``#`` a random digit and each ``?`` a letter."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "?":
            out.append(chr(ord("A") + rng.randrange(26)))
        else:
            out.append(ch)
    return "".join(out)


def tax_id(rng: random.Random, country: Country) -> str:
    """Make up a VAT or tax number in the country's shape (no valid checksum)."""
    number = digits(rng, "#" * country.tax_digits)
    if country.code == "US":
        return f"{number[:2]}-{number[2:]}"
    return f"{country.tax_prefix}{number}"


def spaced_tax_id(value: str) -> str:
    """Write a tax id in groups of three: ``DE 123 456 789``."""
    head = "".join(ch for ch in value if ch.isalpha())
    tail = "".join(ch for ch in value if ch.isdigit())
    groups = [tail[i : i + 3] for i in range(0, len(tail), 3)]
    return " ".join([head, *groups]) if head else " ".join(groups)


def street(rng: random.Random, country: Country) -> str:
    """Make up a street address line."""
    name = rng.choice(country.street_names)
    return country.street_pattern.format(name=name, no=rng.randint(1, 140))


def _local(name: str) -> str:
    """Turn a name into an e-mail local part: ASCII, lower case, no spaces."""
    return _NOT_LOCAL.sub("", fold(name).lower().replace(" ", ""))


def _capital(name: str) -> str:
    """``van den Bosch`` -> ``Van den Bosch`` at the start of a company name."""
    return name[:1].upper() + name[1:]


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    """Draw one of the names in ``options`` by their weights."""
    names = [name for name, _ in options]
    return rng.choices(names, [weight for _, weight in options])[0]


def span(rng: random.Random, days: float) -> timedelta:
    """Draw a duration of up to ``days``, in whole milliseconds."""
    return timedelta(milliseconds=rng.randint(0, max(int(days * 86_400_000), 0)))
