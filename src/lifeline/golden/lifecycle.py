"""The lifecycle state machine: a customer's stage, derived from facts.

Stages: ``prospect -> onboarding -> active <-> past_due``, and ``churned``
from anywhere. ``renewed`` is not a stage but a fact (and the
``RenewalCompleted`` event): a renewal leaves a customer ``active`` -
reactivating a churned one - and a stage must describe a lasting condition
that some later fact ends, which "renewed" does not.

Every (stage, fact) pair has exactly one outcome in :data:`TRANSITIONS`:
the next stage (possibly the same one: the fact changes nothing), or
:class:`Invalid` - the fact contradicts the stage; :func:`transition` then
keeps the stage and returns a :class:`Flag` instead of applying it.

=============== ========== ========== ======== ======== ==========
fact            prospect   onboarding active   past_due churned
=============== ========== ========== ======== ======== ==========
order_placed    onboarding =          =        =        onboarding
invoice_paid    active     active     =        =        =
payment_failed  INVALID    past_due   past_due =        INVALID
arrears_settled INVALID    =          =        active   =
contracts_ended INVALID    churned    churned  churned  =
account_closed  churned    churned    churned  churned  =
renewed         INVALID    INVALID    =        =        active
=============== ========== ========== ======== ======== ==========

``=`` keeps the stage. A churned customer who orders again is won back
(onboarding); a renewal reactivates one (active); a failed payment after
churn is flagged (something still charges a former customer).

A prospect's ``invoice_paid`` (an invoice without an order) skips
onboarding; ``account_closed`` ends even a prospect (``churned`` means the
relationship ended; ``LifecycleStageChanged.from_stage`` tells a lost
prospect from a lost customer). Paying one invoice while past due keeps
``past_due``: only ``arrears_settled`` (no overdue invoice left) ends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, NamedTuple

from lifeline.events.models import LifecycleFact as Fact
from lifeline.events.models import LifecycleStage as Stage

__all__ = [
    "INITIAL_STAGE",
    "TRANSITIONS",
    "Fact",
    "Flag",
    "Invalid",
    "Stage",
    "Step",
    "replay",
    "transition",
]

INITIAL_STAGE: Final = Stage.PROSPECT
"""The stage of a new golden record."""


@dataclass(frozen=True, slots=True)
class Invalid:
    """A table entry: the fact contradicts the stage, for ``reason``."""

    reason: str


@dataclass(frozen=True, slots=True)
class Flag:
    """A fact that was not applied because it contradicts the stage."""

    stage: Stage
    fact: Fact
    reason: str


class Step(NamedTuple):
    """One stage change taken by :func:`replay`."""

    from_stage: Stage
    to_stage: Stage
    fact: Fact


_NO_INVOICE = Invalid("a prospect has no invoice to fail or settle")
_NO_CONTRACT = Invalid("a prospect has no contract to end")
_NO_RENEWAL = Invalid("nothing to renew before a first paid invoice")

_TABLE: dict[Stage, dict[Fact, Stage | Invalid]] = {
    Stage.PROSPECT: {
        Fact.ORDER_PLACED: Stage.ONBOARDING,
        Fact.INVOICE_PAID: Stage.ACTIVE,
        Fact.PAYMENT_FAILED: _NO_INVOICE,
        Fact.ARREARS_SETTLED: _NO_INVOICE,
        Fact.CONTRACTS_ENDED: _NO_CONTRACT,
        Fact.ACCOUNT_CLOSED: Stage.CHURNED,
        Fact.RENEWED: _NO_RENEWAL,
    },
    Stage.ONBOARDING: {
        Fact.ORDER_PLACED: Stage.ONBOARDING,
        Fact.INVOICE_PAID: Stage.ACTIVE,
        Fact.PAYMENT_FAILED: Stage.PAST_DUE,
        Fact.ARREARS_SETTLED: Stage.ONBOARDING,
        Fact.CONTRACTS_ENDED: Stage.CHURNED,
        Fact.ACCOUNT_CLOSED: Stage.CHURNED,
        Fact.RENEWED: _NO_RENEWAL,
    },
    Stage.ACTIVE: {
        Fact.ORDER_PLACED: Stage.ACTIVE,
        Fact.INVOICE_PAID: Stage.ACTIVE,
        Fact.PAYMENT_FAILED: Stage.PAST_DUE,
        Fact.ARREARS_SETTLED: Stage.ACTIVE,
        Fact.CONTRACTS_ENDED: Stage.CHURNED,
        Fact.ACCOUNT_CLOSED: Stage.CHURNED,
        Fact.RENEWED: Stage.ACTIVE,
    },
    Stage.PAST_DUE: {
        Fact.ORDER_PLACED: Stage.PAST_DUE,
        Fact.INVOICE_PAID: Stage.PAST_DUE,
        Fact.PAYMENT_FAILED: Stage.PAST_DUE,
        Fact.ARREARS_SETTLED: Stage.ACTIVE,
        Fact.CONTRACTS_ENDED: Stage.CHURNED,
        Fact.ACCOUNT_CLOSED: Stage.CHURNED,
        Fact.RENEWED: Stage.PAST_DUE,
    },
    Stage.CHURNED: {
        Fact.ORDER_PLACED: Stage.ONBOARDING,
        Fact.INVOICE_PAID: Stage.CHURNED,
        Fact.PAYMENT_FAILED: Invalid("a payment failed after the customer churned"),
        Fact.ARREARS_SETTLED: Stage.CHURNED,
        Fact.CONTRACTS_ENDED: Stage.CHURNED,
        Fact.ACCOUNT_CLOSED: Stage.CHURNED,
        Fact.RENEWED: Stage.ACTIVE,
    },
}

TRANSITIONS: Final[Mapping[tuple[Stage, Fact], Stage | Invalid]] = MappingProxyType(
    {
        (stage, fact): outcome
        for stage, outcomes in _TABLE.items()
        for fact, outcome in outcomes.items()
    }
)
"""Every (stage, fact) pair's outcome: the next stage or :class:`Invalid`."""


def transition(stage: Stage, fact: Fact) -> tuple[Stage, Flag | None]:
    """The stage after ``fact``; on an invalid fact, ``stage`` and a flag.

    Pure and total: every stage and fact has an outcome.
    """
    outcome = TRANSITIONS[(stage, fact)]
    if isinstance(outcome, Invalid):
        return stage, Flag(stage, fact, outcome.reason)
    return outcome, None


def replay(stage: Stage, facts: Iterable[Fact]) -> tuple[Stage, list[Step], list[Flag]]:
    """Apply ``facts`` in order: the final stage, the changes taken, the flags.

    Facts that keep the stage produce no :class:`Step`; each step becomes a
    ``LifecycleStageChanged`` event.
    """
    steps: list[Step] = []
    flags: list[Flag] = []
    for fact in facts:
        after, flag = transition(stage, fact)
        if flag is not None:
            flags.append(flag)
        elif after != stage:
            steps.append(Step(stage, after, fact))
            stage = after
    return stage, steps, flags
