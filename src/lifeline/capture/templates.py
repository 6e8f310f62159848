"""Connector config templates in ``connectors/`` and their placeholders.

A template is the JSON body Kafka Connect takes (``{"name":..,"config":{..}}``)
whose string values may hold placeholders, resolved when the config is
applied, so no secret is ever committed:

* ``${settings:postgres.cdc_password}`` - a Lifeline setting (itself from a
  ``LIFELINE_*`` environment variable, ``.env`` or defaults);
* ``${env:NAME}`` - an environment variable;
* ``${file:PATH}`` - the stripped contents of a file (e.g. a mounted secret).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from lifeline.errors import FatalError
from lifeline.settings import Settings

_PLACEHOLDER = re.compile(r"\$\{(settings|env|file):([^}]+)\}")
SECRET_KEYS = ("password", "secret", "sasl.jaas.config", "ssl.key")


@dataclass(frozen=True, slots=True)
class ConnectorTemplate:
    """One file of ``connectors/``."""

    name: str
    config: Mapping[str, str]
    path: Path

    @property
    def topic_prefix(self) -> str:
        """The connector's ``topic.prefix`` (the source system's name)."""
        return self.config["topic.prefix"]


def connectors_dir() -> Path:
    """The ``connectors/`` folder: LIFELINE_CONNECTORS_DIR, else ./connectors."""
    return Path(os.environ.get("LIFELINE_CONNECTORS_DIR", "connectors")).resolve()


def load_templates(directory: Path | None = None) -> list[ConnectorTemplate]:
    """Read every ``*.json`` template, unrendered, sorted by file name."""
    folder = directory or connectors_dir()
    if not folder.is_dir():
        msg = f"connector templates folder {folder} does not exist"
        raise FatalError(msg)
    templates = []
    for path in sorted(folder.glob("*.json")):
        try:
            body = orjson.loads(path.read_bytes())
            name, config = body["name"], body["config"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            msg = f"{path.name}: expected {{'name': str, 'config': {{...}}}}: {exc}"
            raise FatalError(msg) from exc
        templates.append(ConnectorTemplate(name, dict(config), path))
    return templates


def placeholder_context(settings: Settings) -> dict[str, str]:
    """Flatten the settings into ``section.field`` keys for ``${settings:..}``."""
    context: dict[str, str] = {}
    _flatten(settings.model_dump(), "", context)
    context["state_dir"] = str(settings.state_path)
    for name, db in (("postgres", settings.postgres), ("mariadb", settings.mariadb)):
        # The address as Kafka Connect sees it (a Docker service, say).
        context[f"{name}.connect_host"] = db.connect_host or db.host
        context[f"{name}.connect_port"] = str(db.connect_port or db.port)
    context["mariadb.connector_server_id"] = str(settings.mariadb.server_id + 1)
    history = settings.state_path / "connect" / "history"
    context["connect.schema_history_dir"] = settings.connect.schema_history_dir or str(
        history
    )
    return context


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}{key}.", out)
    elif isinstance(value, SecretStr):
        out[prefix[:-1]] = value.get_secret_value()
    elif value is not None:
        out[prefix[:-1]] = str(value)


def render(template: ConnectorTemplate, settings: Settings) -> dict[str, str]:
    """Resolve every placeholder; raise FatalError naming any that cannot be."""
    context = placeholder_context(settings)

    def resolve(match: re.Match[str]) -> str:
        kind, ref = match.group(1), match.group(2).strip()
        if kind == "settings":
            if ref not in context:
                msg = f"{template.path.name}: unknown setting '{ref}'"
                raise FatalError(msg)
            return context[ref]
        if kind == "env":
            if ref not in os.environ:
                msg = f"{template.path.name}: environment variable {ref} is not set"
                raise FatalError(msg)
            return os.environ[ref]
        try:
            return Path(ref).read_text().strip()
        except OSError as exc:
            msg = f"{template.path.name}: cannot read secret file {ref}: {exc}"
            raise FatalError(msg) from exc

    return {
        key: _PLACEHOLDER.sub(resolve, str(val)) for key, val in template.config.items()
    }


def redact(config: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``config`` safe to print: secret values replaced."""
    return {
        key: ("********" if any(s in key for s in SECRET_KEYS) else value)
        for key, value in config.items()
    }
