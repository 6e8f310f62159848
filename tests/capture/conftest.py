"""One real stack of our own for the connector command tests, started once.

Broker, Kafka Connect with Debezium, PostgreSQL, MariaDB and Redis run from
a fresh world-traversable temporary state directory on free ports from
``tests.ports.free_port`` (30000-32700), with a Connect group id of their
own, and are stopped and purged when the session ends. If the stack cannot
start, every test using it fails with the component's error: nothing is
skipped.

The connectors come from a temporary copy of ``connectors/``, in which the
identity connector gets ``errors.max.retries=0``: by default Debezium retries
a lost database connection for ever while its task still reports RUNNING,
so without it a test could not make a task FAILED and restart it.
"""

from __future__ import annotations

import argparse
import io
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from lifeline.capture import command
from lifeline.samples import schema
from lifeline.settings import Settings
from lifeline.stack.jars import jetty_deb_path
from lifeline.stack.manager import Stack
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CDC_PASSWORD = "cdc-Pw-6142"


@dataclass
class Running:
    settings: Settings
    connectors_dir: Path
    applied_output: str


def _state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lifeline-connectors-"))
    path.chmod(path.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    return path


def _settings(state_dir: Path) -> Settings:
    def part(**values: object) -> dict[str, object]:
        return {"managed": True, "host": "127.0.0.1", "port": free_port(), **values}

    group = f"lifeline-connectors-test-{uuid.uuid4().hex[:8]}"
    return Settings.model_validate(
        {
            "state_dir": state_dir,
            "broker": part(),
            "connect": part(group_id=group),
            "postgres": part(cdc_password=CDC_PASSWORD),
            "mariadb": part(cdc_password=CDC_PASSWORD),
            "redis": part(),
        }
    )


def _copy_templates(target: Path) -> Path:
    target.mkdir()
    for source in sorted((ROOT / "connectors").glob("*.json")):
        body = orjson.loads(source.read_bytes())
        if body["name"] == "lifeline-identity":
            body["config"]["errors.max.retries"] = "0"
        (target / source.name).write_bytes(orjson.dumps(body))
    return target


def _reuse_jetty_deb(settings: Settings) -> None:
    """Copy the checkout's verified Jetty .deb, so starting needs no network."""
    deb = jetty_deb_path(settings)
    cached = ROOT / "state" / deb.parent.name / deb.name
    if cached.is_file():
        deb.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, deb)


@pytest.fixture(scope="session")
def stack() -> Iterator[Running]:
    state_dir = _state_dir()
    settings = _settings(state_dir)
    connectors_dir = _copy_templates(state_dir / "connectors")
    _reuse_jetty_deb(settings)
    running = Stack(settings)
    try:
        running.up()
        schema.apply_schemas(settings)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LIFELINE_CONNECTORS_DIR", str(connectors_dir))
            code, output = run_connectors(settings, "apply")
        assert code == 0, output
        yield Running(settings, connectors_dir, output)
    finally:
        running.down(purge=True)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture
def running(stack: Running, monkeypatch: pytest.MonkeyPatch) -> Running:
    """The session's stack, with its copy of the templates in force."""
    monkeypatch.setenv("LIFELINE_CONNECTORS_DIR", str(stack.connectors_dir))
    return stack


def run_connectors(settings: Settings, *argv: str) -> tuple[int, str]:
    """Run ``lifeline connectors ARGV`` through the command's parser."""
    parser = argparse.ArgumentParser(prog="lifeline")
    command.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["connectors", *argv])
    out = io.StringIO()
    with redirect_stdout(out):
        code: int = args.handler(args, settings)
    return code, out.getvalue()
