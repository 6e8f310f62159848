"""The declarative payload mapping and URL templates.

A payload mapping is a dict from output field to a source:

* a string is a dotted path into the context, e.g. ``payload.email`` or
  ``steps.crm_account.response.id`` (a digit segment indexes a list); a
  missing path gives JSON ``null``;
* ``{const: value}`` is a constant;
* ``{path: dotted.path, default: value}`` is a path with a default.

A dotted output field (``address.city``) builds nested objects. No mapping
at all sends the whole event. A URL template replaces every
``{dotted.path}`` with the URL-quoted value at that path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from lifeline.errors import RecordError

DOTTED = r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$"
MAPPING_ERROR = "mapping"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_MISSING = object()

DottedPath = Annotated[str, Field(pattern=DOTTED)]


class ConstField(BaseModel):
    """A constant output value."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    const: JsonValue


class PathField(BaseModel):
    """A dotted path with the value to use when the path is missing."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: DottedPath
    default: JsonValue = None


FieldSpec = DottedPath | ConstField | PathField
PayloadMapping = dict[Annotated[str, Field(pattern=DOTTED)], FieldSpec]


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at ``path``, or the module's missing marker."""
    value: Any = context
    for segment in path.split("."):
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list | tuple) and segment.isdigit():
            index = int(segment)
            if index >= len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def render_payload(
    mapping: Mapping[str, FieldSpec] | None, context: Mapping[str, Any]
) -> dict[str, Any]:
    """The request body for ``context``; the whole context without a mapping."""
    if mapping is None:
        return dict(context)
    body: dict[str, Any] = {}
    for output, spec in mapping.items():
        _put(body, output, _value(spec, context))
    return body


def expand_template(template: str, context: Mapping[str, Any]) -> str:
    """``template`` with every ``{path}`` replaced by its URL-quoted value.

    Raises RecordError(``mapping``) naming the path when one is missing or
    null: a URL with a hole in it must never be called.
    """

    def substitute(match: re.Match[str]) -> str:
        value = lookup(context, match.group(1))
        if value is _MISSING or value is None:
            reason = f"URL template: no value at {match.group(1)!r}"
            raise RecordError(MAPPING_ERROR, reason)
        return quote(str(value), safe="")

    return _PLACEHOLDER.sub(substitute, template)


def strip_placeholders(template: str) -> str:
    """``template`` without its ``{dotted.path}`` placeholders."""
    return _PLACEHOLDER.sub("", template)


def _value(spec: FieldSpec, context: Mapping[str, Any]) -> Any:
    if isinstance(spec, ConstField):
        return spec.const
    path, default = (spec, None) if isinstance(spec, str) else (spec.path, spec.default)
    value = lookup(context, path)
    return default if value is _MISSING else value


def _put(body: dict[str, Any], output: str, value: Any) -> None:
    *parents, leaf = output.split(".")
    node = body
    for parent in parents:
        child = node.setdefault(parent, {})
        if not isinstance(child, dict):
            child = node[parent] = {}
        node = child
    node[leaf] = value
