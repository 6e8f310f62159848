"""The lifecycle state machine: total, documented, flags invalid facts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifeline.golden import (
    INITIAL_STAGE,
    TRANSITIONS,
    Fact,
    Flag,
    Invalid,
    Stage,
    Step,
    replay,
    transition,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "golden-record.md"

# The table as the issue reads it: fact -> outcome per stage, "=" stays,
# "INVALID" is flagged. Stages in order prospect, onboarding, active,
# past_due, churned.
EXPECTED = {
    "order_placed": "onboarding = = = onboarding",
    "invoice_paid": "active active = = =",
    "payment_failed": "INVALID past_due past_due = INVALID",
    "arrears_settled": "INVALID = = active =",
    "contracts_ended": "INVALID churned churned churned =",
    "account_closed": "churned churned churned churned =",
    "renewed": "INVALID INVALID = = active",
}


def outcome_text(stage: Stage, fact: Fact) -> str:
    outcome = TRANSITIONS[(stage, fact)]
    if isinstance(outcome, Invalid):
        return "INVALID"
    return "=" if outcome == stage else outcome.value


def test_the_table_is_total() -> None:
    assert set(TRANSITIONS) == {(stage, fact) for stage in Stage for fact in Fact}


def test_the_table_is_the_one_agreed() -> None:
    for fact, row in EXPECTED.items():
        cells = [outcome_text(stage, Fact(fact)) for stage in Stage]
        assert cells == row.split(), fact


def test_the_documented_table_is_the_table() -> None:
    rows = re.findall(r"^\| `(\w+)` \|(.+)\|$", DOC.read_text(encoding="utf-8"), re.M)
    documented = {
        fact: " ".join(cell.strip().strip("`*") for cell in cells.split("|"))
        for fact, cells in rows
        if fact in EXPECTED
    }
    assert documented == EXPECTED


def test_the_happy_path() -> None:
    facts = [
        Fact.ORDER_PLACED,
        Fact.INVOICE_PAID,
        Fact.PAYMENT_FAILED,
        Fact.ARREARS_SETTLED,
        Fact.RENEWED,
        Fact.CONTRACTS_ENDED,
        Fact.RENEWED,
    ]
    stage, steps, flags = replay(INITIAL_STAGE, facts)
    assert stage is Stage.ACTIVE
    assert flags == []
    assert steps == [
        Step(Stage.PROSPECT, Stage.ONBOARDING, Fact.ORDER_PLACED),
        Step(Stage.ONBOARDING, Stage.ACTIVE, Fact.INVOICE_PAID),
        Step(Stage.ACTIVE, Stage.PAST_DUE, Fact.PAYMENT_FAILED),
        Step(Stage.PAST_DUE, Stage.ACTIVE, Fact.ARREARS_SETTLED),
        Step(Stage.ACTIVE, Stage.CHURNED, Fact.CONTRACTS_ENDED),
        Step(Stage.CHURNED, Stage.ACTIVE, Fact.RENEWED),
    ]


@pytest.mark.parametrize(
    ("stage", "fact"),
    [
        (stage, fact)
        for (stage, fact), o in TRANSITIONS.items()
        if isinstance(o, Invalid)
    ],
)
def test_invalid_facts_are_flagged_not_applied(stage: Stage, fact: Fact) -> None:
    after, flag = transition(stage, fact)
    assert after is stage
    assert isinstance(flag, Flag)
    assert (flag.stage, flag.fact) == (stage, fact)
    assert flag.reason


def test_valid_facts_have_no_flag() -> None:
    assert transition(Stage.ACTIVE, Fact.PAYMENT_FAILED) == (Stage.PAST_DUE, None)
    assert transition(Stage.PAST_DUE, Fact.INVOICE_PAID) == (Stage.PAST_DUE, None)


def test_replay_collects_flags_and_keeps_going() -> None:
    stage, steps, flags = replay(
        Stage.PROSPECT, [Fact.PAYMENT_FAILED, Fact.ORDER_PLACED, Fact.RENEWED]
    )
    assert stage is Stage.ONBOARDING
    assert [step.to_stage for step in steps] == [Stage.ONBOARDING]
    assert [(f.stage, f.fact) for f in flags] == [
        (Stage.PROSPECT, Fact.PAYMENT_FAILED),
        (Stage.ONBOARDING, Fact.RENEWED),
    ]


def test_churned_is_reached_from_every_stage() -> None:
    for stage in Stage:
        assert transition(stage, Fact.ACCOUNT_CLOSED) == (Stage.CHURNED, None)
