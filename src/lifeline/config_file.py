"""Configuration files: YAML read into validated pydantic models.

Every loader reports a problem the same way: the kind of file, its path and,
for each invalid value, the dotted location of the field (``targets.0.url``)
with what was wrong. Values themselves are never repeated (they may be
secrets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lifeline.errors import FatalError

M = TypeVar("M", bound=BaseModel)


def validation_problems(exc: ValidationError) -> str:
    """``location: message`` for every error, joined by ``; ``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or '(top)'}: "
        + str(err["msg"]).removeprefix("Value error, ")
        for err in exc.errors()
    )


def read_mapping(
    path: Path,
    what: str,
    *,
    error: type[FatalError] = FatalError,
    loader: type[yaml.SafeLoader] = yaml.SafeLoader,
) -> dict[str, Any]:
    """The YAML mapping in ``path``; an empty file is an empty mapping."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - SafeLoader subclasses only
    except OSError as exc:
        msg = f"{what} {path}: cannot read it: {exc}"
        raise error(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{what} {path}: invalid YAML: {exc}"
        raise error(msg) from exc
    return check_mapping(raw or {}, what, str(path), error=error)


def check_mapping(
    raw: Any, what: str, source: str, *, error: type[FatalError] = FatalError
) -> dict[str, Any]:
    """``raw`` itself when it is a mapping, else an error naming ``source``."""
    if not isinstance(raw, dict):
        msg = f"{what} {source}: expected a mapping at the top"
        raise error(msg)
    return raw


def validate(
    model: type[M],
    raw: dict[str, Any],
    what: str,
    source: str,
    *,
    error: type[FatalError] = FatalError,
) -> M:
    """``model`` validated from ``raw``; every problem named in one error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        msg = f"{what} {source}: {validation_problems(exc)}"
        raise error(msg) from exc
