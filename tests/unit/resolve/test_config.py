"""The resolution configuration: defaults, the shipped YAML, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.errors import FatalError
from lifeline.resolve.config import DEFAULT_CONFIG, ResolutionConfig, load_config

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "resolution.yaml"


def test_the_shipped_yaml_spells_out_the_defaults() -> None:
    assert load_config(SHIPPED) == DEFAULT_CONFIG


def test_missing_keys_take_defaults(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("weights:\n  phone: 0.1\ndefault_country: FR\n", encoding="utf-8")
    config = load_config(path)
    assert config.weights.phone == 0.1
    assert config.weights.name == DEFAULT_CONFIG.weights.name
    assert config.default_country == "FR"
    assert config.link_threshold == DEFAULT_CONFIG.link_threshold


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert load_config(path) == DEFAULT_CONFIG


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("link_threshold: 1.5\n", "link_threshold"),
        ("default_country: Germany\n", "default_country"),
        ("weights:\n  phone: -1\n", "weights.phone"),
        ("max_block_size: 1\n", "max_block_size"),
        ("link_treshold: 0.5\n", "link_treshold"),
        ("- a list\n", "mapping"),
        ("key: [unclosed\n", "invalid YAML"),
    ],
)
def test_invalid_files_are_fatal_and_say_where(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FatalError, match=named) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_configs_are_frozen() -> None:
    config = ResolutionConfig()
    with pytest.raises(ValueError, match="frozen"):
        config.link_threshold = 0.1
    assert config == DEFAULT_CONFIG
