"""The labeled generator and the benchmark's quality bar, on a small sample."""

from __future__ import annotations

from collections import Counter

from lifeline.resolve import Resolver, SourceRecord
from lifeline.resolve.evaluate import pairwise_scores
from lifeline.resolve.synthetic import SYSTEMS, generate


def test_generation_is_deterministic_per_seed() -> None:
    assert generate(50, seed=1) == generate(50, seed=1)
    assert generate(50, seed=1) != generate(50, seed=2)


def test_records_span_the_systems_noise_and_traps() -> None:
    labeled = generate(2000, seed=11)
    assert {r.system for r in labeled} == set(SYSTEMS)
    assert len({r.ref for r in labeled}) == len(labeled)
    traits = Counter(t for r in labeled for t in r.traits)
    for trait in (
        "family",
        "owner",
        "reused_phone",
        "nickname",
        "typo",
        "moved",
        "email_case",
        "email_whitespace",
        "other_email",
        "role_email",
        "name_form",
        "link",
        "duplicate",
    ):
        assert traits[trait] > 0, trait
    for record in labeled:
        SourceRecord.from_fields(record.system, record.id, record.fields)


def test_trap_customers_are_different_customers() -> None:
    labeled = generate(2000, seed=11)
    family = {r.truth for r in labeled if "family" in r.traits}
    others = {r.truth for r in labeled if not {"family", "owner"} & set(r.traits)}
    assert family
    assert not family & others


def test_resolution_quality_on_a_small_sample() -> None:
    labeled = generate(3000, seed=21)
    resolver = Resolver()
    resolver.resolve(
        [SourceRecord.from_fields(r.system, r.id, r.fields) for r in labeled]
    )
    scores = pairwise_scores(resolver.assignments(), {r.ref: r.truth for r in labeled})
    assert scores.precision >= 0.99
    assert scores.recall >= 0.96
    assert scores.f1 >= 0.975


def test_pairwise_scores_count_pairs() -> None:
    truth = {"a": "1", "b": "1", "c": "1", "d": "2"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y"}
    scores = pairwise_scores(predicted, truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (
        3,
        2,
        1,
    )
    assert scores.precision == 0.5
    assert scores.recall == 1 / 3
    assert abs(scores.f1 - 0.4) < 1e-9
    empty = pairwise_scores({}, {})
    assert (empty.precision, empty.recall) == (1.0, 1.0)
