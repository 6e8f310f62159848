"""The deliveries flow refuses targets that subscribe to no real event."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.emit.delivery_sink import check_event_types
from lifeline.errors import FatalError
from lifeline.targets import parse_targets

TARGET = {"name": "crm", "url": "http://127.0.0.1:9/hooks", "hmac_secret_env": "X"}


def test_known_event_types_pass() -> None:
    config = parse_targets({"targets": [{**TARGET, "events": ["CustomerCreated"]}]})
    check_event_types(config, Path("targets.yaml"))


def test_unknown_event_type_is_named() -> None:
    config = parse_targets({"targets": [{**TARGET, "events": ["customer.created"]}]})
    with pytest.raises(FatalError, match=r"crm: customer\.created"):
        check_event_types(config, Path("targets.yaml"))


def test_the_example_config_names_real_events() -> None:
    root = Path(__file__).resolve().parents[2]
    from lifeline.targets import load_targets

    check_event_types(load_targets(root / "config/targets.example.yaml"), "example")
