"""Whether two records are the same customer, and why: the pair rule.

:func:`link` is pure and symmetric: it looks only at the two records' keys
and the configuration, so the clustering it induces does not depend on the
order records arrive in. The rules, strongest first:

1. ``explicit_link`` - one record lists the other's ``system:id`` in links.
2. ``shared_link`` - both list the same ``system:id``.
3. ``tax_id`` - equal tax/VAT ids (a bare number matches a prefixed one).
4. ``email`` - equal, personal (not a role mailbox) address, same kind of
   customer, names not contradicting, tax ids not conflicting.
5. ``fuzzy`` - similar names (at least ``min_name_similarity``) plus at
   least one *anchor* - equal email (a role mailbox too), the company's own
   email domain, phone, or postal code + house number + street - scored as
   a weighted sum (city adds a little; conflicting tax ids, company domains
   or countries subtract) at or above ``link_threshold``. A name alone never links.

Rules 1-3 hold whatever the names say. A company and a person (its owner,
say) never link by rules 4-5, and neither do two records whose names
contradict (family members sharing one mailbox).
"""

from __future__ import annotations

from typing import NamedTuple

from lifeline.resolve.config import FuzzyWeights, ResolutionConfig
from lifeline.resolve.normalise import tax_body
from lifeline.resolve.record import COMPANY, RecordKeys
from lifeline.resolve.similarity import jaro_winkler, token_similarity

# How decisive each rule is; a decision reports the strongest link found.
PRIORITY = {"explicit_link": 5, "shared_link": 4, "tax_id": 3, "email": 2, "fuzzy": 1}


class Link(NamedTuple):
    """Why two records are one customer: the rule, keys that agreed, score.

    ``score`` is 1.0 for the deterministic rules and the fuzzy score for
    ``fuzzy``.
    """

    rule: str
    matched_keys: tuple[str, ...]
    score: float


EXPLICIT = Link("explicit_link", ("links",), 1.0)
SHARED = Link("shared_link", ("links",), 1.0)
TAX = Link("tax_id", ("tax_id",), 1.0)
EMAIL = Link("email", ("email",), 1.0)
_MATCH, _UNKNOWN, _CONFLICT = 1, 0, -1


def link(a: RecordKeys, b: RecordKeys, cfg: ResolutionConfig) -> Link | None:
    """The strongest rule that links ``a`` and ``b``, or ``None``."""
    if a.ref in b.links or b.ref in a.links:
        return EXPLICIT
    if a.links and b.links and any(ref in b.links for ref in a.links):
        return SHARED
    tax = tax_relation(a.tax, b.tax)
    if tax == _MATCH:
        return TAX
    if a.kind != b.kind and a.kind and b.kind:
        return None
    similarity, contradiction = name_agreement(a, b, cfg)
    if contradiction:
        return None
    if a.email and a.email == b.email and not a.role_email and tax != _CONFLICT:
        return EMAIL
    return _fuzzy(a, b, similarity, tax, cfg)


def tax_relation(a: str, b: str) -> int:
    """1 when both tax ids denote the same, -1 when they differ, else 0."""
    if not a or not b:
        return _UNKNOWN
    if a == b:
        return _MATCH
    if a[:1].isalpha() and b[:1].isalpha():
        return _CONFLICT
    return _MATCH if tax_body(a) == tax_body(b) else _CONFLICT


def name_agreement(
    a: RecordKeys, b: RecordKeys, cfg: ResolutionConfig
) -> tuple[float, bool]:
    """``(similarity 0..1, contradiction)`` of the two records' names.

    Unknown parts neither add similarity nor contradict.
    """
    if a.kind == COMPANY:
        if not a.company or not b.company:
            return 0.0, False
        score = token_similarity(a.company, b.company)
        return score, score < cfg.company_contradiction_below
    family = jaro_winkler(a.family, b.family) if a.family and b.family else None
    given = given_agreement(a.given, b.given, cfg) if a.given and b.given else None
    contradiction = given == 0.0 or (
        family is not None and family < cfg.family_contradiction_below
    )
    if family is None:
        return (0.5 * given if given else 0.0), contradiction
    if given is None:
        return 0.8 * family, contradiction
    return 0.6 * family + 0.4 * given, contradiction


def given_agreement(
    a: tuple[str, ...], b: tuple[str, ...], cfg: ResolutionConfig
) -> float:
    """How well two given names agree; 0.0 means they contradict.

    Equal: 1.0; nickname of one another: 0.95; an initial that fits, or one
    name a prefix of the other: 0.9; a typo (similarity at least
    ``given_typo_similarity``): that similarity.
    """
    first_a, first_b = a[0], b[0]
    if first_a == first_b:
        return 1.0
    if any(form in b for form in a):
        return 0.95
    if len(first_a) == 1 or len(first_b) == 1:
        return 0.9 if first_a[0] == first_b[0] else 0.0
    shorter, longer = sorted((first_a, first_b), key=len)
    if len(shorter) >= 3 and longer.startswith(shorter):
        return 0.9
    similarity = jaro_winkler(first_a, first_b)
    return similarity if similarity >= cfg.given_typo_similarity else 0.0


def _fuzzy(
    a: RecordKeys, b: RecordKeys, name: float, tax: int, cfg: ResolutionConfig
) -> Link | None:
    if name < cfg.min_name_similarity:
        return None
    weights = cfg.weights
    matched = ["name", *_anchors(a, b)]
    if len(matched) == 1:
        return None  # a name (and a city) alone never links
    score = weights.name * name + sum(_weight(key, a, weights) for key in matched[1:])
    if a.city and a.city == b.city and "address" not in matched:
        score += weights.city
        matched.append("city")
    if tax == _CONFLICT:
        score -= weights.tax_conflict
    if a.domain and b.domain and a.domain != b.domain:
        score -= weights.domain_conflict
    if a.country and b.country and a.country != b.country:
        score -= weights.country_conflict
    if score < cfg.link_threshold:
        return None
    return Link("fuzzy", tuple(matched), round(score, 3))


def _anchors(a: RecordKeys, b: RecordKeys) -> list[str]:
    """The anchor keys (each one a block key) on which the records agree."""
    out = []
    if a.email and a.email == b.email:
        out.append("email")
    if a.domain and a.domain == b.domain and a.kind == COMPANY == b.kind:
        out.append("email_domain")
    if a.phone and a.phone == b.phone:
        out.append("phone")
    if (
        a.postal
        and a.postal == b.postal
        and a.house
        and a.house == b.house
        and (a.street == b.street or jaro_winkler(a.street, b.street) >= 0.9)
    ):
        out.append("address")
    return out


def _weight(key: str, a: RecordKeys, weights: FuzzyWeights) -> float:
    if key == "email":
        return weights.role_email if a.role_email else weights.email
    return float(getattr(weights, key))
