"""docker-compose.yml cannot run here (no Docker engine); check what can be.

The file parses; every port is published on 127.0.0.1 only; with the
settings its header tells users to export, the connector templates point
Kafka Connect at services, ports and a history volume the file defines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifeline.capture.templates import load_templates, render
from lifeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def header_env() -> dict[str, str]:
    text = COMPOSE.read_text()
    return dict(re.findall(r"(LIFELINE_[A-Z_]+)=(\S+)", text))


def test_services_and_ports_are_loopback_only() -> None:
    services = compose()["services"]
    assert {"kafka", "connect", "erp", "identity", "redis"} <= set(services)
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_templates_rendered_with_the_header_settings_match_the_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = header_env()
    assert env, "the header documents no LIFELINE_ settings"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    services = compose()["services"]
    connect = services["connect"]
    volumes = [str(v).split(":", 1)[1] for v in connect.get("volumes", [])]
    for template in load_templates(ROOT / "connectors"):
        config = render(template, settings)
        host, port = config["database.hostname"], config["database.port"]
        assert host in services, f"{template.name}: no service {host}"
        assert host in connect.get("depends_on", [])
        published = [str(p).rsplit(":", 1)[-1] for p in services[host]["ports"]]
        assert port in published, f"{template.name}: {host} does not expose {port}"
        history = config.get("schema.history.internal.file.filename")
        if history is not None:
            assert any(history.startswith(v) for v in volumes), history


def test_connect_reaches_the_broker_listener() -> None:
    services = compose()["services"]
    bootstrap = services["connect"]["environment"]["BOOTSTRAP_SERVERS"]
    host, _, port = bootstrap.partition(":")
    listeners = services[host]["environment"]["KAFKA_LISTENERS"]
    assert f":{port}" in listeners
