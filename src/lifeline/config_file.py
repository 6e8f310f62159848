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


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping key given twice.

    Plain YAML keeps the last of two equal keys, silently: in a config file
    that hides a mistake (a threshold set twice, say).
    """


def _unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            msg = f"duplicate key '{key}' (line {line})"
            raise yaml.constructor.ConstructorError(
                None, None, msg, key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping
)


def read_mapping(
    path: Path, what: str, *, error: type[FatalError] = FatalError
) -> dict[str, Any]:
    """The YAML mapping in ``path``; an empty file is an empty mapping.

    Duplicate keys, unreadable files and invalid YAML raise ``error``.
    """
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader
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
