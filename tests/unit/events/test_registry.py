"""Loading the schema directory: every event present, bad files named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lifeline.errors import FatalError
from lifeline.events import EVENT_MODELS, SCHEMA_DIR, EventSchemas


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    target = tmp_path / "avro"
    shutil.copytree(SCHEMA_DIR, target)
    return target


def test_the_shipped_schemas_cover_every_event() -> None:
    schemas = EventSchemas.load()
    assert set(schemas.names()) == set(EVENT_MODELS)
    for name in EVENT_MODELS:
        current = schemas.current(name)
        assert current.model is EVENT_MODELS[name]
        assert current.full_name == f"io.lifeline.events.{name}"
        assert schemas.by_fingerprint(current.fingerprint) is current


def test_fingerprints_are_unique() -> None:
    schemas = EventSchemas.load()
    prints = {schemas.current(name).fingerprint for name in schemas.names()}
    assert len(prints) == len(EVENT_MODELS)


def test_a_missing_event_is_fatal(schema_dir: Path) -> None:
    (schema_dir / "OrderPlaced.avsc").unlink()
    with pytest.raises(FatalError, match="no schema for OrderPlaced"):
        EventSchemas.load(schema_dir)


def test_a_file_that_is_not_json_is_named(schema_dir: Path) -> None:
    (schema_dir / "OrderPlaced.avsc").write_text("{", encoding="utf-8")
    with pytest.raises(FatalError, match=r"OrderPlaced\.avsc: cannot read"):
        EventSchemas.load(schema_dir)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"namespace": "com.example"}, "not an event of namespace"),
        ({"version": 0}, "'version' must be a positive integer"),
        ({"version": "1"}, "'version' must be a positive integer"),
        ({"type": "enum"}, "expected an Avro record"),
        ({"fields": [{"name": "x", "type": "nope"}]}, "invalid Avro"),
    ],
)
def test_a_bad_schema_is_named(
    schema_dir: Path, change: dict[str, object], problem: str
) -> None:
    path = schema_dir / "OrderPlaced.avsc"
    definition = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(definition | change), encoding="utf-8")
    with pytest.raises(FatalError, match=problem) as error:
        EventSchemas.load(schema_dir)
    assert "OrderPlaced.avsc" in str(error.value)


def test_a_schema_under_another_name_is_fatal(schema_dir: Path) -> None:
    shutil.copy(schema_dir / "OrderPlaced.avsc", schema_dir / "Other.avsc")
    with pytest.raises(FatalError, match=r"Other\.avsc: holds OrderPlaced"):
        EventSchemas.load(schema_dir)


def test_a_misnamed_history_file_is_fatal(schema_dir: Path) -> None:
    history = schema_dir / "history"
    (history / "OrderPlaced.v1.avsc").rename(history / "OrderPlaced.v2.avsc")
    with pytest.raises(FatalError, match=r"name it <Event>\.v<version>\.avsc"):
        EventSchemas.load(schema_dir)
