"""Backoff, Retry-After, pacing, signatures and the payload mapping."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from lifeline.errors import RecordError
from lifeline.targets.backoff import backoff_delay, parse_retry_after, retry_delay
from lifeline.targets.config import RetryPolicy
from lifeline.targets.limiter import Pacer
from lifeline.targets.mapping import (
    ConstField,
    FieldSpec,
    PathField,
    expand_template,
    render_payload,
)
from lifeline.targets.signing import sign, verify

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3, jitter=0)
    rng = random.Random(1)

    delays = [backoff_delay(policy, n, rng) for n in range(1, 6)]

    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_takes_away_at_most_its_fraction() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=1, jitter=0.25)
    rng = random.Random(7)

    delays = {backoff_delay(policy, 1, rng) for _ in range(200)}

    assert all(0.75 <= d <= 1.0 for d in delays)
    assert len(delays) > 100


def test_huge_attempt_numbers_do_not_overflow() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=30, jitter=0)
    assert backoff_delay(policy, 10_000, random.Random()) == 30


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Wed, 01 May 2024 10:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 09:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_forms(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_retry_after_is_capped_and_wins_over_backoff() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=1, jitter=0, retry_after_cap=60)
    rng = random.Random()
    assert retry_delay(policy, 1, 3600.0, rng) == 60
    assert retry_delay(policy, 1, 0.0, rng) == 0
    assert retry_delay(policy, 1, None, rng) == 1


def test_pacer_spaces_starts_and_honours_pauses() -> None:
    now = [0.0]
    pacer = Pacer(rate_per_second=4, clock=lambda: now[0])

    assert [pacer.reserve() for _ in range(3)] == [0.0, 0.25, 0.5]
    now[0] = 10.0
    pacer.pause_until(12.0)
    assert pacer.reserve() == 2.0


def test_unlimited_pacer_only_pauses() -> None:
    now = [0.0]
    pacer = Pacer(rate_per_second=None, clock=lambda: now[0])
    assert [pacer.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    pacer.pause_until(1.5)
    assert pacer.reserve() == 1.5


def test_signature_verifies_and_rejects_tampering() -> None:
    body = b'{"a":1}'
    header = sign(b"s3cret", 1_700_000_000, body)

    assert header.startswith("sha256=")
    assert verify(b"s3cret", "1700000000", body, header, now=1_700_000_100)
    assert not verify(b"s3cret", "1700000000", b'{"a":2}', header, now=1_700_000_000)
    assert not verify(b"other", "1700000000", body, header, now=1_700_000_000)
    assert not verify(b"s3cret", "1700000001", body, header, now=1_700_000_000)
    assert not verify(b"s3cret", "1700000000", body, header, now=1_700_001_000)
    assert not verify(b"s3cret", "x", body, header, now=1_700_000_000)


def test_mapping_paths_constants_defaults_and_nesting() -> None:
    context = {
        "golden_id": "g-1",
        "payload": {"emails": ["a@example.invalid", "b@example.invalid"], "n": 0},
    }
    mapping: dict[str, FieldSpec] = {
        "id": "golden_id",
        "contact.email": "payload.emails.1",
        "contact.count": "payload.n",
        "missing": "payload.nope.deeper",
        "past_end": "payload.emails.5",
        "plan": PathField(path="payload.plan", default="free"),
        "source": ConstField(const={"system": "lifeline"}),
    }

    assert render_payload(mapping, context) == {
        "id": "g-1",
        "contact": {"email": "b@example.invalid", "count": 0},
        "missing": None,
        "past_end": None,
        "plan": "free",
        "source": {"system": "lifeline"},
    }
    assert render_payload(None, context) == context


def test_url_template_quotes_and_refuses_holes() -> None:
    context = {"golden_id": "g 1/2", "steps": {"crm": {"response": {"id": 7}}}}

    url = "http://127.0.0.1/a/{golden_id}/{steps.crm.response.id}"
    assert expand_template(url, context) == "http://127.0.0.1/a/g%201%2F2/7"
    with pytest.raises(RecordError, match=r"steps\.billing\.response\.id"):
        expand_template("http://127.0.0.1/{steps.billing.response.id}", context)
