"""Normalised comparison keys for the values identity resolution looks at.

Every function here is pure and total: it takes what a source system holds
(any case, spacing, punctuation, accents) and returns a canonical key, or
``None``/empty when the value carries nothing usable. Two values that denote
the same thing should give the same key; the keys are for comparing, never
for display.

Email policy, on purpose conservative: the address is trimmed and lower-cased
(no provider treats case as significant in practice), and nothing else. Dots
in the local part and ``+tag`` suffixes are kept, because only some providers
ignore them and two different mailboxes must never share a key; stripping
``+tags`` can be switched on in the configuration.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from lifeline.resolve.nicknames import FORMAL_TO_SHORT

# Letters that casefold + NFKD do not reduce to ASCII; German umlauts become
# their customary two-letter spelling so that "Müller" and "Mueller" agree.
_TRANSLITERATE = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "æ": "ae", "œ": "oe", "ø": "o",
        "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i",
        "'": None, "\u2019": None, "`": None, "\u00b4": None,
    }
)  # fmt: skip
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_NOT_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_NOT_DIGIT = re.compile(r"\D+")
_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?|extension)\s*\d+\s*$")

_TITLES = frozenset(
    {
        "dr", "prof", "mr", "mrs", "ms", "miss", "mx", "herr", "frau", "mme", "mlle",
        "sir", "dott", "ing", "dipl", "mag", "sra", "pan", "pani", "jr", "sr", "ii",
        "iii", "iv", "phd", "md"
    }
)  # fmt: skip
# Legal forms after folding and removing dots ("B.V." -> "bv", "Sp. z o.o."
# -> "sp z oo"); only trailing runs of them are removed.
_LEGAL_FORMS = frozenset(
    {
        "gmbh", "mbh", "co", "kg", "ag", "ug", "haftungsbeschraenkt", "ek", "eg", "ev",
        "og", "ohg", "gbr", "kgaa", "se", "sarl", "sas", "sasu", "eurl", "sa", "sca",
        "snc", "bv", "vof", "nv", "cv", "sl", "slu", "ltd", "limited", "llp", "lp",
        "plc", "inc", "incorporated", "llc", "corp", "corporation", "ab", "hb", "kb",
        "as", "asa", "aps", "oy", "oyj", "sp", "z", "oo", "spa", "srl", "sro", "kft",
        "pty"
    }
)  # fmt: skip
_CONNECTORS = frozenset({"and", "und", "et", "en", "och", "the"})
_STREET_WORDS = {
    "str": "strasse", "st": "street", "rd": "road", "ave": "avenue",
    "av": "avenue", "blvd": "boulevard", "ln": "lane", "pl": "place",
    "sq": "square", "ul": "ulica", "c": "calle", "r": "rue", "g": "gasse",
}  # fmt: skip
_COUNTRY_NAMES = {
    "germany": "DE", "deutschland": "DE", "austria": "AT", "oesterreich": "AT",
    "france": "FR", "netherlands": "NL", "nederland": "NL", "spain": "ES",
    "espana": "ES", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
    "united states": "US", "usa": "US", "sweden": "SE", "sverige": "SE",
    "poland": "PL", "polska": "PL", "switzerland": "CH", "italy": "IT",
    "belgium": "BE",
}  # fmt: skip
# Country calling codes; countries whose national numbers start with a
# trunk "0" that is dropped after the country code, except _KEEP_ZERO.
DIAL_CODES = {
    "DE": "49", "AT": "43", "CH": "41", "FR": "33", "NL": "31", "BE": "32",
    "LU": "352", "ES": "34", "PT": "351", "IT": "39", "GB": "44", "IE": "353",
    "US": "1", "CA": "1", "SE": "46", "NO": "47", "DK": "45", "FI": "358",
    "PL": "48", "CZ": "420",
}  # fmt: skip
_KEEP_ZERO = frozenset({"IT"})
_VAT_PREFIX = {"GR": "EL"}


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Casefolded, accent-free words separated by single spaces.

    ``" Jürgen-O'Neill "`` -> ``"juergen oneill"``. Letters of other scripts
    are kept (only their combining marks go), so no name folds to nothing.
    """
    folded = text.casefold().translate(_TRANSLITERATE)
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return _NOT_WORD.sub(" ", folded).strip()


@lru_cache(maxsize=1 << 16)
def email(value: str, *, strip_plus_tags: bool = False) -> str | None:
    """The trimmed, lower-case address; ``None`` unless it looks like one.

    With ``strip_plus_tags`` the ``+tag`` of the local part is removed
    (``jo+shop@x.org`` -> ``jo@x.org``). Dots are always kept.
    """
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or "." not in domain or "@" in local:
        return None
    if _SPACE.search(address):
        return None
    if strip_plus_tags:
        local = local.split("+", 1)[0] or local
    return f"{local}@{domain}"


def tax_id(value: str, country: str | None) -> str | None:
    """Upper-case letters and digits with a country prefix where known.

    ``"DE 123 456 789"`` -> ``"DE123456789"``; a bare number gets the
    record's country as prefix (Greece as ``EL``, as VAT numbers do), or
    stays bare when the country is unknown. Fewer than five characters is
    no tax id.
    """
    compact = _NOT_ALNUM.sub("", value).upper()
    if len(compact) < 5:
        return None
    if compact[:2].isalpha() or not country:
        return compact
    return _VAT_PREFIX.get(country, country) + compact


def tax_body(tax: str) -> str:
    """The tax id without its letter prefix, to compare prefixed and bare."""
    return tax.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@lru_cache(maxsize=1 << 16)
def phone(value: str, country: str | None) -> str | None:
    """E.164-like ``+<country code><number>``; ``None`` if not a phone.

    ``+`` or ``00`` starts an international number; otherwise the number is
    national to ``country`` (a leading trunk ``0`` is dropped, except where
    the country keeps it). An extension (``x12``, ``ext. 12``) is ignored.
    """
    raw = _EXTENSION.sub("", value.strip())
    digits = _NOT_DIGIT.sub("", raw)
    if raw.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        number = _national(digits, country)
    return f"+{number}" if 8 <= len(number) <= 15 else None


def _national(digits: str, country: str | None) -> str:
    dial = DIAL_CODES.get(country or "")
    if dial is None:
        return ""
    if dial == "1" and len(digits) == 11 and digits.startswith("1"):
        return digits
    if digits.startswith("0") and country not in _KEEP_ZERO:
        digits = digits[1:]
    return dial + digits


@lru_cache(maxsize=1 << 16)
def country(value: str) -> str | None:
    """ISO 3166 alpha-2 upper case from a code or a common country name."""
    code = value.strip()
    if len(code) == 2 and code.isalpha():
        return code.upper()
    return _COUNTRY_NAMES.get(fold(code))


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name as comparison keys.

    ``given`` holds the first given name followed by the formal names it
    may be short for (``("bill", "william")``); it is empty when unknown.
    ``family`` is the last word of the family name (``"bosch"`` for van den
    Bosch); empty when unknown.
    """

    given: tuple[str, ...]
    family: str


@lru_cache(maxsize=1 << 16)
def person_name(first: str, last: str, full: str) -> PersonName:
    """Parse a person's name from first/last parts, else from one string.

    A full string is read as ``Family, Given`` when it has a comma, else as
    given name first and family name last; titles, suffixes and middle
    initials are dropped. Pass ``""`` for what a record does not have.
    """
    if first or last:
        given = _words(first)
        family = _family(_words(last))
    elif "," in full:
        head, _, tail = full.partition(",")
        given, family = _words(tail), _family(_words(head))
    else:
        words = _words(full)
        if len(words) < 2:
            return PersonName((), _family(words))
        given, family = words[:1], _family(words[1:])
    return PersonName(given_forms(given[0]) if given else (), family)


def _words(text: str) -> list[str]:
    return [word for word in fold(text).split() if word not in _TITLES]


def _family(words: list[str]) -> str:
    """The last word that is not an initial: the core of the family name.

    Particles and first surnames are left out (``van den Bosch`` ->
    ``bosch``), because sources split, join and drop them inconsistently.
    """
    names = [word for word in words if len(word) > 1] or words
    return names[-1] if names else ""


@lru_cache(maxsize=1 << 14)
def given_forms(given: str) -> tuple[str, ...]:
    """``given`` followed by every formal name it is a short form of."""
    return (given, *_FORMAL_OF.get(given, ()))


@lru_cache(maxsize=1 << 16)
def company_name(value: str) -> str:
    """Folded company name without legal form: ``"nordwind logistik"``.

    Dots are removed before folding so ``B.V.`` and ``BV`` agree; trailing
    legal forms (``GmbH & Co. KG``, ``Sp. z o.o.``, ``Ltd``) and connectors
    (``&``, ``and``, ``und``) are dropped, but never the name's first word.
    """
    words = [
        word for word in fold(value.replace(".", "")).split() if word not in _CONNECTORS
    ]
    end = len(words)
    while end > 1 and words[end - 1] in _LEGAL_FORMS:
        end -= 1
    return " ".join(words[:end])


def has_legal_form(value: str) -> bool:
    """Whether a name ends in a legal form, i.e. names a company."""
    words = fold(value.replace(".", "")).split()
    return len(words) > 1 and words[-1] in _LEGAL_FORMS


@lru_cache(maxsize=1 << 16)
def street(value: str) -> tuple[str, str]:
    """``(street key, house number)`` of a street line.

    Abbreviations are spelt out and words joined without spaces:
    ``"Lindenstr. 12a"`` -> ``("lindenstrasse", "12a")``.
    """
    words = fold(value).split()
    numbers = [word for word in words if word[0].isdigit()]
    names = [_street_word(word) for word in words if not word[0].isdigit()]
    return "".join(names), numbers[0] if numbers else ""


def _street_word(word: str) -> str:
    if word.endswith("str") and len(word) > 3:
        return word + "asse"
    return _STREET_WORDS.get(word, word)


def postal_code(value: str) -> str:
    """Upper-case letters and digits only: ``"sw1a 1aa"`` -> ``"SW1A1AA"``."""
    return _NOT_ALNUM.sub("", value).upper()


@lru_cache(maxsize=1 << 16)
def city(value: str) -> str:
    """Folded city name without spaces."""
    return fold(value).replace(" ", "")


def _formal_of() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for formal, shorts in FORMAL_TO_SHORT.items():
        key = fold(formal).split()[0]
        for short in shorts:
            forms = table.setdefault(fold(short), [])
            if key not in forms:
                forms.append(key)
    return {short: tuple(forms) for short, forms in table.items()}


_FORMAL_OF = _formal_of()
