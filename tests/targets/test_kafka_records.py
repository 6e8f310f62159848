"""Dead letters through a real Kafka-compatible broker, and ``lifeline replay``.

The module starts its own broker (tansu) on a free port with a temporary
state directory, and stops it at the end.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifeline.settings import BrokerSettings, Settings
from lifeline.stack.broker import Broker
from lifeline.targets import command
from lifeline.targets.kafka_records import (
    KafkaRecordReader,
    KafkaRecordWriter,
    client_config,
    open_dispatcher,
)
from lifeline.targets.records import RecordReader
from tests.ports import free_port
from tests.targets.conftest import ENV, config_of, event, target
from tests.targets.fake_saas import Act, FakeSaaS

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings(state_dir=state, broker=BrokerSettings(port=free_port()))
    broker = Broker(settings)
    try:
        broker.start()
        yield settings
    finally:
        # In-memory topics, nothing to flush: do not wait out tansu's
        # graceful shutdown (seconds); SIGKILL the broker we started.
        broker.process.terminate(timeout=0.5)


def topic() -> str:
    return f"test.targets.{uuid.uuid4().hex[:8]}"


def test_written_records_read_back_in_order_per_key(settings: Settings) -> None:
    name = topic()
    kafka = client_config(settings.broker)
    writer = KafkaRecordWriter(kafka, name)
    for n in range(3):
        writer.write("g-1", {"n": n, "key": "g-1"})
        writer.write("g-2", {"n": n, "key": "g-2"})
    writer.close()
    reader: RecordReader = KafkaRecordReader(kafka, name, timeout=20)

    records = list(reader.read_all())

    for key in ("g-1", "g-2"):
        assert [r["n"] for r in records if r["key"] == key] == [0, 1, 2]
    assert list(KafkaRecordReader(kafka, topic(), timeout=20).read_all()) == []


def test_replay_command_delivers_dead_letters_once(
    settings: Settings,
    saas: FakeSaaS,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    raw: dict[str, Any] = {
        "targets": [target("crm", saas.url("/crm"), limits={"max_in_flight": 1})],
        "dead_letter_topic": topic(),
    }
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(raw))
    saas.script("POST", "/crm", *[Act(500)] * 4)
    dispatcher = open_dispatcher(settings, config_of(*raw["targets"], **raw), env=ENV)
    dispatcher.submit([event("e1"), event("e2"), event("e3", golden_id="g-2")])
    assert dispatcher.drain(20)
    dispatcher.close()
    assert dispatcher.stats()["crm"].dead_lettered == 2
    args = argparse.Namespace(target="crm", config=path, timeout=20.0)

    first = command.handle(args, settings)
    first_out = capsys.readouterr().out
    second = command.handle(args, settings)
    second_out = capsys.readouterr().out

    assert (first, second) == (0, 0)
    assert "2 dead letters, 2 delivered, 0 already delivered, 0 failed" in first_out
    assert "2 dead letters, 0 delivered, 2 already delivered" in second_out
    assert sorted(e.key for e in saas.applied("/crm")) == ["e1", "e2", "e3"]


def test_replay_is_registered_as_a_subcommand() -> None:
    parser = argparse.ArgumentParser()
    command.add_parser(parser.add_subparsers(dest="command"))

    args = parser.parse_args(["replay", "--target", "crm"])

    assert args.handler is command.handle
    assert (args.target, args.config, args.timeout) == (
        "crm",
        command.DEFAULT_CONFIG,
        None,
    )
