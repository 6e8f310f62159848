"""The ownership file: the shipped one loads, every mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.errors import FatalError
from lifeline.events import GOLDEN_FIELDS
from lifeline.golden import load_ownership, load_ownership_config

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "ownership.yaml"

VALID = """\
version: 1
systems: [erp, identity, billing]
fields:
{fields}
sources:
  erp.customers: {{legal_name: legal_name, billing_email: email}}
  identity.users: {{login_email: email}}
"""
RULES = {name: "[erp, billing]" for name in GOLDEN_FIELDS} | {
    "login_email": "[identity]",
    "billing_status": "[billing]",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ownership.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def config_text(**overrides: str | None) -> str:
    rules = RULES | overrides
    lines = [f"  {name}: {value}" for name, value in rules.items() if value is not None]
    return VALID.format(fields="\n".join(lines))


def test_the_shipped_file_loads() -> None:
    rules = load_ownership(SHIPPED)
    assert rules.owner("legal_name") == "erp"
    assert rules.owner("tax_id") == "erp"
    assert rules.owner("login_email") == "identity"
    assert rules.owner("billing_status") == "billing"
    assert rules.order("billing_email") == ("billing", "erp")
    assert set(rules.config.fields) == set(GOLDEN_FIELDS)


def test_a_valid_file_loads(tmp_path: Path) -> None:
    config = load_ownership_config(write(tmp_path, config_text()))
    assert config.fields["login_email"] == ("identity",)
    assert config.sources["erp.customers"]["billing_email"] == "email"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"legal_name": "[erpp]"}, "field 'legal_name': unknown system 'erpp'"),
        ({"tax_id": "[]"}, "field 'tax_id': empty owner list"),
        ({"phone": "[erp, billing, erp]"}, "field 'phone': system 'erp' listed twice"),
        ({"phone": None}, "field 'phone': no rule"),
        ({"shoe_size": "[erp]"}, "field 'shoe_size': not a golden-record field"),
        ({"phone": "erp"}, "fields.phone: Input should be a valid tuple"),
    ],
)
def test_field_mistakes_are_named(
    tmp_path: Path, overrides: dict[str, str | None], problem: str
) -> None:
    path = write(tmp_path, config_text(**overrides))
    with pytest.raises(FatalError) as error:
        load_ownership_config(path)
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_a_field_given_twice_is_named(tmp_path: Path) -> None:
    text = config_text().replace("fields:\n", "fields:\n  tax_id: [billing]\n", 1)
    path = write(tmp_path, text)
    with pytest.raises(FatalError, match=r"duplicate key 'tax_id' \(line 6\)") as err:
        load_ownership_config(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "identity.users: {login_email: email}",
            "crm.contacts: {login_email: email}",
            "source 'crm.contacts': expected <system>.<table> of a declared system",
        ),
        (
            "identity.users: {login_email: email}",
            "identity: {login_email: email}",
            "source 'identity': expected <system>.<table>",
        ),
        (
            "identity.users: {login_email: email}",
            "identity.users: {legal_name: name}",
            "source 'identity.users': field 'legal_name' does not list 'identity'",
        ),
        (
            "identity.users: {login_email: email}",
            "identity.users: {shoe: size}",
            "source 'identity.users': unknown field 'shoe'",
        ),
        (
            "identity.users: {login_email: email}",
            "erp.contacts: {legal_name: name}",
            "field 'legal_name': fed by both 'erp.customers' and 'erp.contacts'",
        ),
        ("systems: [erp, identity, billing]", "systems: [erp, erp]", "declared twice"),
        ("systems: [erp, identity, billing]", "systems: [ERP]", "systems.0"),
        ("version: 1", "version: 2", "version: Input should be 1"),
    ],
)
def test_other_mistakes_are_named(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    text = config_text()
    assert old in text
    path = write(tmp_path, text.replace(old, new))
    with pytest.raises(FatalError) as error:
        load_ownership_config(path)
    assert problem in str(error.value)


@pytest.mark.parametrize("text", ["- a list\n", "fields: [\n"])
def test_unreadable_files_are_fatal(tmp_path: Path, text: str) -> None:
    with pytest.raises(FatalError, match="ownership config"):
        load_ownership_config(write(tmp_path, text))


def test_a_missing_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="cannot read it"):
        load_ownership_config(tmp_path / "nope.yaml")
