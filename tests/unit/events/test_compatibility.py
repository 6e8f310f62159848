"""Schema evolution: released versions are frozen and stay readable.

``schemas/avro/history/<Event>.v<N>.avsc`` holds every released version.
Changing an event's schema means: raise its ``version``, copy the new
schema to the history, and keep it BACKWARD compatible with every earlier
version (these tests check all three).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from lifeline.events import EVENT_MODELS, EventSchemas

from .compat import backward_problems

SCHEMAS = EventSchemas.load()


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_the_current_schema_is_a_released_version(name: str) -> None:
    current = SCHEMAS.current(name)
    released = {schema.version: schema for schema in SCHEMAS.history(name)}
    assert current.version in released, (
        f"{name} v{current.version}: copy it to history/{name}.v{current.version}.avsc"
    )
    assert released[current.version].definition == current.definition, (
        f"{name} v{current.version} was released and must not change: "
        "raise its version and add the new version to history/"
    )


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_versions_count_up_from_one(name: str) -> None:
    versions = [schema.version for schema in SCHEMAS.history(name)]
    assert versions == list(range(1, len(versions) + 1))


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_the_current_schema_reads_every_released_version(name: str) -> None:
    current = SCHEMAS.current(name).definition
    for old in SCHEMAS.history(name):
        assert backward_problems(old.definition, current) == [], f"v{old.version}"


# The check itself: it must catch what breaks BACKWARD and pass what does not.


def order_placed() -> dict[str, Any]:
    return copy.deepcopy(dict(SCHEMAS.current("OrderPlaced").definition))


def stage_changed() -> dict[str, Any]:
    return copy.deepcopy(dict(SCHEMAS.current("LifecycleStageChanged").definition))


def field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [f for f in schema["fields"] if f["name"] == name]
    assert len(found) == 1
    return found[0]


def test_a_new_field_without_default_breaks() -> None:
    new = order_placed()
    new["fields"].append({"name": "channel", "type": "string", "doc": "x"})
    problems = backward_problems(order_placed(), new)
    assert any("channel: new field without a default" in p for p in problems)
    assert any("old data does not read" in p for p in problems)


def test_a_new_nested_field_without_default_breaks() -> None:
    new = order_placed()
    lineage = field(new, "lineage")["type"]["items"]
    lineage["fields"].append({"name": "offset", "type": "long"})
    problems = backward_problems(order_placed(), new)
    assert problems
    assert "io.lifeline.events.Lineage.offset" in problems[0]


def test_a_changed_type_breaks() -> None:
    new = order_placed()
    field(new, "order_number")["type"] = "long"
    assert backward_problems(order_placed(), new)


def test_a_removed_enum_symbol_breaks() -> None:
    new = stage_changed()
    assert field(new, "to_stage")["type"] == "LifecycleStage"  # defined earlier
    enum = field(new, "from_stage")["type"][1]
    enum["symbols"] = [s for s in enum["symbols"] if s != "churned"]
    assert backward_problems(stage_changed(), new)


def test_a_changed_decimal_scale_breaks() -> None:
    new = order_placed()
    field(new, "total")["type"]["scale"] = 2
    assert backward_problems(order_placed(), new)


def test_compatible_changes_pass() -> None:
    new = order_placed()
    new["version"] = 2
    new["fields"].append(
        {"name": "channel", "type": ["null", "string"], "default": None, "doc": "x"}
    )
    new["fields"] = [f for f in new["fields"] if f["name"] != "currency"]
    enum_added = stage_changed()
    field(enum_added, "from_stage")["type"][1]["symbols"].append("paused")
    assert backward_problems(order_placed(), new) == []
    assert backward_problems(stage_changed(), enum_added) == []


def test_history_files_are_the_json_they_claim() -> None:
    for name in EVENT_MODELS:
        for schema in SCHEMAS.history(name):
            assert json.loads(json.dumps(schema.definition))["name"] == name
