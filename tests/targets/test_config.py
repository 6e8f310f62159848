"""Loading and validating the targets configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lifeline.targets.config import load_targets, parse_targets
from lifeline.targets.errors import TargetConfigError
from lifeline.targets.mapping import ConstField, PathField

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "targets.example.yaml"


def minimal(**overrides: Any) -> dict[str, Any]:
    target = {
        "name": "crm",
        "url": "http://127.0.0.1:8081/hooks",
        "events": ["customer.created"],
        "hmac_secret_env": "CRM_HMAC_SECRET",
        **overrides,
    }
    return {"targets": [target]}


def test_the_example_config_is_valid_and_local() -> None:
    config = load_targets(EXAMPLE)

    names = [t.name for t in config.targets] + [s.name for s in config.sagas]
    assert {"crm", "billing", "support", "onboarding"} <= set(names)
    urls = [t.url for t in config.targets] + [
        step.url for saga in config.sagas for step in saga.steps
    ]
    assert all(url.startswith("http://127.0.0.1:") for url in urls)
    assert config.dead_letter_topic == "lifeline.targets.dead-letter"
    assert config.exception_topic == "lifeline.onboarding.exceptions"


def test_defaults_and_mapping_forms() -> None:
    mapping = {"id": "golden_id", "c": {"const": 1}, "p": {"path": "a.b", "default": 2}}
    (target,) = parse_targets(minimal(payload=mapping)).targets

    assert target.method == "POST"
    assert target.retry.max_attempts == 5
    assert target.breaker.failure_threshold == 5
    assert target.limits.max_in_flight == 4
    assert target.payload is not None
    assert target.payload["id"] == "golden_id"
    assert target.payload["c"] == ConstField(const=1)
    assert target.payload["p"] == PathField(path="a.b", default=2)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"retry": {"max_attempts": 0}}, "targets.0.retry.max_attempts"),
        ({"retry": {"base_delay": 5, "max_delay": 1}}, "targets.0.retry"),
        ({"url": "ftp://127.0.0.1/x"}, "targets.0"),
        ({"url": "http://{golden_id}/x"}, "targets.0"),
        ({"url": "http://user:pw@127.0.0.1/x"}, "targets.0"),
        ({"events": []}, "targets.0.events"),
        ({"name": "Bad Name"}, "targets.0.name"),
        ({"hmac_secret_env": "not-a-var"}, "targets.0.hmac_secret_env"),
        ({"auth": {"type": "digest"}}, "targets.0.auth"),
        ({"limits": {"max_in_flight": 0}}, "targets.0.limits.max_in_flight"),
        ({"breaker": {"open_seconds": -1}}, "targets.0.breaker.open_seconds"),
        ({"payload": {"a": "x", "a.b": "y"}}, "targets.0"),
        ({"payload": {"a": "not a path"}}, "targets.0.payload.a"),
        ({"unknown": 1}, "targets.0.unknown"),
    ],
)
def test_invalid_fields_are_named(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(TargetConfigError) as caught:
        parse_targets(minimal(**overrides), source="t.yaml")
    assert "targets config t.yaml" in str(caught.value)
    assert field in str(caught.value)


def test_names_are_unique_across_targets_and_sagas() -> None:
    raw = minimal()
    raw["sagas"] = [
        {
            "name": "crm",
            "events": ["customer.onboarded"],
            "steps": [
                {"name": "a", "url": "http://127.0.0.1/a", "hmac_secret_env": "S"}
            ],
        }
    ]
    with pytest.raises(TargetConfigError, match="duplicate target or saga name 'crm'"):
        parse_targets(raw)


def test_unknown_target_lists_the_known_ones() -> None:
    config = parse_targets(minimal())
    with pytest.raises(TargetConfigError, match=r"'erp'.*known: crm"):
        config.target("erp")


def test_unreadable_or_odd_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(TargetConfigError, match="cannot read it"):
        load_targets(tmp_path / "missing.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(TargetConfigError, match="expected a mapping"):
        load_targets(listed)
