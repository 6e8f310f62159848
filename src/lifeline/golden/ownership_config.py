"""The ownership file's format, validated: ``config/ownership.yaml``.

::

    version: 1
    systems: [erp, identity, billing, crm, support]
    fields:                     # every golden field, systems by priority
      legal_name: [erp, crm]    # erp owns it, crm is the fallback
    sources:                    # <system>.<table>: {golden field: column}
      erp.customers:
        legal_name: legal_name

Rules: every golden field has a non-empty list of declared systems, none
twice; only golden fields appear; keys appear once (YAML's last-wins is
refused); a source table belongs to a declared system, maps only fields
that list that system, and no field is fed by two tables of one system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from lifeline import config_file
from lifeline.events.models import GOLDEN_FIELDS

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class OwnershipConfig(BaseModel):
    """The parsed file; construct through :func:`load_ownership_config`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1]
    systems: tuple[Name, ...] = Field(min_length=1)
    fields: dict[str, tuple[str, ...]]
    sources: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = (
            _system_problems(self.systems)
            + _field_problems(self.fields, set(self.systems))
            + _source_problems(self.sources, self.fields, set(self.systems))
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _system_problems(systems: tuple[str, ...]) -> list[str]:
    return [
        f"systems: '{s}' declared twice"
        for s in dict.fromkeys(systems)
        if systems.count(s) > 1
    ]


def _field_problems(fields: dict[str, tuple[str, ...]], known: set[str]) -> list[str]:
    problems = [
        f"field '{name}': not a golden-record field (known: {', '.join(GOLDEN_FIELDS)})"
        for name in fields
        if name not in GOLDEN_FIELDS
    ]
    problems += [
        f"field '{name}': no rule; every golden field needs an owner"
        for name in GOLDEN_FIELDS
        if name not in fields
    ]
    for name, systems in fields.items():
        if not systems:
            problems.append(f"field '{name}': empty owner list")
        problems += [
            f"field '{name}': unknown system '{s}' (known: {', '.join(sorted(known))})"
            for s in dict.fromkeys(systems)
            if s not in known
        ]
        problems += [
            f"field '{name}': system '{s}' listed twice"
            for s in dict.fromkeys(systems)
            if systems.count(s) > 1
        ]
    return problems


def _source_problems(
    sources: dict[str, dict[str, str]],
    fields: dict[str, tuple[str, ...]],
    known: set[str],
) -> list[str]:
    problems: list[str] = []
    fed_by: dict[tuple[str, str], str] = {}
    for source, columns in sources.items():
        system, dot, table = source.partition(".")
        if not dot or not table or system not in known:
            problems.append(
                f"source '{source}': expected <system>.<table> of a declared system"
            )
            continue
        for name in columns:
            if name not in fields:
                problems.append(f"source '{source}': unknown field '{name}'")
            elif system not in fields[name]:
                problems.append(
                    f"source '{source}': field '{name}' does not list '{system}'"
                )
            elif (name, system) in fed_by:
                first = fed_by[(name, system)]
                problems.append(f"field '{name}': fed by both '{first}' and '{source}'")
            else:
                fed_by[(name, system)] = source
    return problems


def load_ownership_config(path: Path) -> OwnershipConfig:
    """Read and validate an ownership file.

    Raises :class:`~lifeline.errors.FatalError` naming the file and every
    problem found (each naming its field or source).
    """
    raw = config_file.read_mapping(path, "ownership config")
    return config_file.validate(OwnershipConfig, raw, "ownership config", str(path))


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) + ": " if loc else ""
