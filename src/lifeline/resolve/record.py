"""Source records and the comparison keys computed once per record.

A :class:`SourceRecord` is one customer row of one system, identified by
``system:id`` (its *ref*). Its :class:`RecordKeys` are computed when it is
built, with the resolver's configuration, so that blocking and scoring never
normalise again; the resolver's state keeps only the keys, never the raw
fields. Building keys is stateless and may run on any worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from sys import intern
from typing import NamedTuple

from lifeline.errors import RecordError
from lifeline.resolve import normalise as norm
from lifeline.resolve.config import DEFAULT_CONFIG, ResolutionConfig

TEXT_FIELDS = (
    "name", "first_name", "last_name", "company", "tax_id", "email", "phone",
    "street", "city", "postal_code", "country",
)  # fmt: skip
FIELDS = frozenset((*TEXT_FIELDS, "links"))
PERSON, COMPANY = "person", "company"
BAD_RECORD = "bad_record"  # the RecordError kind of every validation error


class RecordKeys(NamedTuple):
    """Normalised keys of one record; ``""`` or ``()`` where it has none.

    A named tuple of strings: cheap to compare and to pickle, and ignored
    by the garbage collector, which matters with a million of them.

    ``kind`` is ``"company"`` (a company field, or a name ending in a legal
    form), ``"person"`` (any other name) or ``""`` (no name at all).
    ``domain`` is set for companies only: the email's domain when its first
    label contains a word of the company name (``nordwind-logistik.example``
    for Nordwind Logistik), never a public mail provider.
    """

    ref: str
    kind: str
    email: str
    role_email: bool
    domain: str
    tax: str
    phone: str
    links: tuple[str, ...]
    given: tuple[str, ...]
    family: str
    company: str
    street: str
    house: str
    postal: str
    city: str
    country: str

    def __repr__(self) -> str:
        """Only the ref and kind: the other keys are personal data."""
        return f"RecordKeys(ref={self.ref!r}, kind={self.kind!r}, ...)"


class SourceRecord(NamedTuple):
    """An upsert of one source record: its fields and their keys.

    Build it with :meth:`from_fields`. Immutable; a named tuple because the
    flow makes one per change. ``repr`` shows no field values.
    """

    system: str
    id: str
    fields: Mapping[str, object]
    keys: RecordKeys

    @property
    def ref(self) -> str:
        """``system:id``."""
        return self.keys.ref

    @classmethod
    def from_fields(
        cls,
        system: str,
        id: str,
        fields: Mapping[str, object],
        config: ResolutionConfig = DEFAULT_CONFIG,
    ) -> SourceRecord:
        """Validate ``fields`` and compute the keys.

        Raises :class:`~lifeline.errors.RecordError` (kind ``bad_record``)
        naming the offending field, never its value, when a field is unknown
        or of the wrong type.
        """
        system, id = check_ref(system, id)
        keys = build_keys(f"{system}:{id}", _texts(fields), _links(fields), config)
        return cls(system, id, fields, keys)

    def __repr__(self) -> str:
        """The ref only: fields are personal data."""
        return f"SourceRecord(ref={self.keys.ref!r}, ...)"


class RecordDelete(NamedTuple):
    """The deletion of one source record."""

    system: str
    id: str

    @property
    def ref(self) -> str:
        """``system:id``."""
        return f"{self.system}:{self.id}"


RecordChange = SourceRecord | RecordDelete


def build_keys(
    ref: str, text: Mapping[str, str], links: tuple[str, ...], cfg: ResolutionConfig
) -> RecordKeys:
    """Compute every key of one record from its text fields (``""`` = absent).

    Values that many records share (names, places, domains) are interned, so
    a million records hold one copy of each.
    """
    country = norm.country(text["country"]) or ""
    email = norm.email(text["email"], strip_plus_tags=cfg.strip_plus_tags) or ""
    local, _, domain = email.partition("@")
    kind, company = _kind(text)
    name = norm.person_name(text["first_name"], text["last_name"], text["name"])
    street, house = norm.street(text["street"])
    place = country or cfg.default_country
    return RecordKeys(
        ref,
        kind,
        email,
        local in cfg.role_mailboxes,
        intern(_company_domain(domain, company, cfg)),
        norm.tax_id(text["tax_id"], country or None) or "",
        norm.phone(text["phone"], place) or "",
        links,
        () if kind == COMPANY else name.given,
        "" if kind == COMPANY else intern(name.family),
        company,
        intern(street),
        intern(house),
        intern(norm.postal_code(text["postal_code"])),
        intern(norm.city(text["city"])),
        intern(country),
    )


def _kind(text: Mapping[str, str]) -> tuple[str, str]:
    """``(kind, company key)`` from the name fields."""
    if text["company"]:
        return COMPANY, norm.company_name(text["company"])
    if text["name"] and norm.has_legal_form(text["name"]):
        return COMPANY, norm.company_name(text["name"])
    if text["name"] or text["first_name"] or text["last_name"]:
        return PERSON, ""
    return "", ""


def _company_domain(domain: str, company: str, cfg: ResolutionConfig) -> str:
    """The email domain if it is the company's own: it spells a company word."""
    if not company or domain in cfg.public_mail_domains:
        return ""
    label = domain.partition(".")[0]
    words = company.split()
    return domain if any(len(w) >= 3 and w in label for w in words) else ""


_NUMBER_FIELDS = frozenset({"tax_id", "phone", "postal_code"})


def _json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for error messages."""
    names = {bool: "a boolean", int: "a number", float: "a number"}
    names |= {list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _texts(fields: Mapping[str, object]) -> dict[str, str]:
    """Every text field, stripped; ``""`` for those absent or null."""
    text = dict.fromkeys(TEXT_FIELDS, "")
    for name, value in fields.items():
        if name not in FIELDS:
            msg = f"unknown field(s) {', '.join(sorted(set(fields) - FIELDS))}"
            raise RecordError(BAD_RECORD, msg)
        if value is None or name == "links":
            continue
        if isinstance(value, str):
            text[name] = value.strip()
        elif name in _NUMBER_FIELDS and type(value) is int:
            text[name] = str(value)  # databases keep these as numbers too
        else:
            kind = "a string or an integer" if name in _NUMBER_FIELDS else "a string"
            msg = f"field {name} must be {kind}, not {_json_type(value)}"
            raise RecordError(BAD_RECORD, msg)
    return text


def _links(fields: Mapping[str, object]) -> tuple[str, ...]:
    value = fields.get("links")
    if value is None:
        return ()
    if not isinstance(value, list):
        msg = 'field links must be a list of "system:id"'
        raise RecordError(BAD_RECORD, msg)
    return tuple(sorted({_link(item) for item in value}))


def _link(item: object) -> str:
    if isinstance(item, str):
        system, _, id_ = item.partition(":")
        if system.strip() and id_.strip():
            return f"{system.strip()}:{id_.strip()}"
    msg = 'field links must hold "system:id" strings'
    raise RecordError(BAD_RECORD, msg)


def check_ref(system: object, id_: object) -> tuple[str, str]:
    """``(system, id)`` as text, or :class:`RecordError` saying what is wrong.

    Both must be non-empty; the system may not contain ``:``; an integer id
    (a JSON number) is taken as its decimal text.
    """
    if isinstance(id_, int) and not isinstance(id_, bool):
        id_ = str(id_)
    msg = ""
    if not isinstance(system, str) or not system.strip():
        msg = "system must be a non-empty string"
    elif ":" in system:
        msg = "system must not contain ':'"
    elif not isinstance(id_, str) or not id_.strip():
        msg = "id must be a non-empty string or integer"
    if msg:
        raise RecordError(BAD_RECORD, msg)
    return str(system), str(id_)
