"""Thresholds and weights of identity resolution, validated, with defaults.

The defaults are the tuned values (see ``docs/identity-resolution.md``);
``config/resolution.yaml`` spells them out and is the file to copy and edit.
A configuration is frozen: a resolver keeps the one it was built with, and
records must be keyed (:meth:`SourceRecord.from_fields`) with the same one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from lifeline.config_file import read_mapping, validate

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0, le=2.0)]

_ROLE_MAILBOXES = frozenset(
    {
        "accounts", "accounting", "admin", "billing", "contact", "finance", "hello",
        "info", "invoice", "invoices", "mail", "office", "orders", "post", "sales",
        "service", "support", "team"
    }
)  # fmt: skip
_PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
        "msn.com", "yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.de", "gmx.net", "gmx.at", "web.de", "t-online.de",
        "freenet.de", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "wp.pl",
        "onet.pl", "o2.pl", "interia.pl", "telia.com", "ziggo.nl", "kpnmail.nl",
        "hetnet.nl"
    }
)  # fmt: skip


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FuzzyWeights(_Frozen):
    """What each kind of agreement adds to a fuzzy score (and conflicts take).

    ``name`` multiplies the name similarity (0..1); the others are added
    when the two records agree on that key, or subtracted on a conflict.
    """

    name: Weight = 0.5
    email: Weight = 0.35
    role_email: Weight = 0.1
    email_domain: Weight = 0.25
    phone: Weight = 0.25
    address: Weight = 0.3
    city: Weight = 0.05
    tax_conflict: Weight = 0.6
    domain_conflict: Weight = 0.15
    country_conflict: Weight = 0.3


class ResolutionConfig(_Frozen):
    """Every knob of the resolver; see the field comments for the contract."""

    # Country assumed for a national phone number or bare tax id when the
    # record names none.
    default_country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    # Remove "+tag" from email local parts before comparing (off: two
    # addresses that differ only by a tag may be different mailboxes).
    strip_plus_tags: bool = False
    # Local parts of shared mailboxes: an address with one is weak evidence.
    role_mailboxes: frozenset[str] = _ROLE_MAILBOXES
    # Domains anyone can have an address at; sharing one is no evidence.
    public_mail_domains: frozenset[str] = _PUBLIC_MAIL_DOMAINS
    # A fuzzy score at or above this links two records.
    link_threshold: Unit = 0.7
    # Below this name similarity no fuzzy link is made at all.
    min_name_similarity: Unit = 0.85
    # Family names less similar than this contradict (so no email link).
    family_contradiction_below: Unit = 0.75
    # Company names less similar than this contradict.
    company_contradiction_below: Unit = 0.75
    # Two different given names are still the same when at least this
    # similar (typos); below it and not a nickname, they contradict.
    given_typo_similarity: Unit = 0.85
    # A fuzzy blocking key shared by more records than this is skipped:
    # it is too common to narrow anything down.
    max_block_size: int = Field(default=64, ge=2)
    # An exact key (email, tax id, link) shared by more records than this
    # is treated as junk (e.g. a placeholder address) and skipped.
    max_key_size: int = Field(default=1000, ge=2)
    weights: FuzzyWeights = FuzzyWeights()


DEFAULT_CONFIG = ResolutionConfig()


def load_config(path: Path) -> ResolutionConfig:
    """Read and validate a YAML configuration; missing keys take defaults.

    Raises :class:`~lifeline.errors.FatalError` naming the file and every
    invalid key when the file is unreadable or does not validate.
    """
    raw = read_mapping(path, "resolution config")
    return validate(ResolutionConfig, raw, "resolution config", str(path))
