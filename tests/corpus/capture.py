"""Capture the decoder corpus from a running local stack.

Run from the repository root against a stack of its own (see README.md in
this folder)::

    .venv/bin/python -m tests.corpus.capture

It creates a ``type_zoo`` table with a column of every common type in a
``zoo`` database of PostgreSQL and of MariaDB, registers one Debezium
connector per converter variant (JsonConverter with and without schemas,
every decimal mode, connect time precision, Avro through a schema registry
this script serves on 127.0.0.1), makes the changes listed in ``DML``,
consumes every topic and writes ``<variant>.jsonl`` (input of ``lifeline
decode``) and ``expected/<variant>.jsonl`` (its output).
"""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pymysql
import requests
from confluent_kafka import Consumer, TopicPartition

from lifeline.decode.command import build_decoder, decode_stream
from lifeline.settings import Settings
from tests.corpus import zoo

HERE = Path(__file__).resolve().parent
AVRO_SCHEMAS = HERE / "avro-schemas"


class _Registry(BaseHTTPRequestHandler):
    """Just enough of a schema registry for Confluent's AvroConverter."""

    schemas: ClassVar[dict[str, int]] = {}
    lock = threading.Lock()

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        schema = json.loads(self.rfile.read(length))["schema"]
        with self.lock:
            schema_id = self.schemas.setdefault(schema, len(self.schemas) + 1)
        (AVRO_SCHEMAS / f"{schema_id}.avsc").write_text(schema + "\n")
        if self.path.split("?")[0].endswith("/versions"):
            self._reply(200, {"id": schema_id})
        else:
            self._reply(200, {"id": schema_id, "version": 1, "schema": schema})

    def do_GET(self) -> None:
        if self.path.startswith("/schemas/ids/"):
            wanted = int(self.path.split("?")[0].rsplit("/", 1)[1])
            for schema, schema_id in self.schemas.items():
                if schema_id == wanted:
                    self._reply(200, {"schema": schema})
                    return
        self._reply(404, {"error_code": 40403, "message": "not found"})

    def log_message(self, format: str, *args: Any) -> None:
        return


def _put_connector(settings: Settings, name: str, config: dict[str, str]) -> None:
    url = f"{settings.connect.url}/connectors/{name}/config"
    response = requests.put(url, json=config, timeout=30)
    if response.status_code >= 300:
        raise SystemExit(f"{name}: {response.status_code} {response.text[:500]}")


def _wait_running(settings: Settings, names: list[str]) -> None:
    deadline = time.monotonic() + 180
    for name in names:
        while True:
            url = f"{settings.connect.url}/connectors/{name}/status"
            state = requests.get(url, timeout=10).json()
            tasks = state.get("tasks", [])
            if tasks and all(t["state"] == "RUNNING" for t in tasks):
                break
            if any(t["state"] == "FAILED" for t in tasks):
                raise SystemExit(f"{name} failed: {tasks[0].get('trace', '')[:2000]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} not RUNNING: {state}")
            time.sleep(1)


def _consume(settings: Settings, prefixes: list[str]) -> dict[str, list[Any]]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": "lifeline-corpus-capture",
            "enable.auto.commit": "false",
        }
    )
    metadata = consumer.list_topics(timeout=10).topics
    consumer.assign(
        [
            TopicPartition(name, partition, 0)
            for name, topic in metadata.items()
            if name.split(".")[0] in prefixes
            for partition in topic.partitions
        ]
    )
    records: dict[str, list[Any]] = {prefix: [] for prefix in prefixes}
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 8:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        idle_since = time.monotonic()
        records[(message.topic() or "").split(".")[0]].append(message)
    consumer.close()
    return records


def _line(message: Any, avro: bool) -> dict[str, Any]:
    def text(data: bytes | None) -> str | None:
        if data is None:
            return None
        return base64.b64encode(data).decode() if avro else data.decode()

    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": text(message.key()),
        "value": text(message.value()),
    }


def _write(variant: str, messages: list[Any], avro: bool) -> None:
    messages.sort(key=lambda m: (m.timestamp()[1], m.topic(), m.offset()))
    lines = [json.dumps(_line(m, avro), sort_keys=True) for m in messages]
    source = HERE / f"{variant}.jsonl"
    source.write_text("".join(line + "\n" for line in lines))
    print(f"{variant}: {len(lines)} records")


def decoded(variant: str) -> bytes:
    """What ``lifeline decode`` makes of a variant's captured records."""
    avro = zoo.VARIANTS[variant].get("avro") == "true"
    decoder = build_decoder(
        "avro" if avro else "json",
        AVRO_SCHEMAS if avro else None,
        None,
        zoo.PLACEHOLDER,
    )
    out = io.BytesIO()
    lines = (HERE / f"{variant}.jsonl").read_bytes().splitlines()
    decode_stream(decoder, lines, out, avro)
    return out.getvalue()


def write_expected() -> None:
    """Regenerate ``expected/`` from the captured records (review the diff!)."""
    (HERE / "expected").mkdir(exist_ok=True)
    for variant in zoo.VARIANTS:
        (HERE / "expected" / f"{variant}.jsonl").write_bytes(decoded(variant))


def main() -> None:
    if "--expected-only" in sys.argv:
        write_expected()
        return
    settings = Settings()
    AVRO_SCHEMAS.mkdir(exist_ok=True)
    registry = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    registry_url = f"http://127.0.0.1:{registry.server_port}"
    pg = psycopg.connect(zoo.postgres_dsn(settings, "postgres"), autocommit=True)
    zoo.create_postgres(pg, settings)
    my = pymysql.connect(**zoo.mariadb_kwargs(settings), autocommit=True)
    zoo.create_mariadb(my)
    connectors = zoo.connectors(settings, registry_url)
    for name, config in connectors.items():
        _put_connector(settings, name, config)
    _wait_running(settings, list(connectors))
    time.sleep(15)  # let every snapshot finish before streaming starts
    zoo.stream_postgres(settings)
    zoo.stream_mariadb(my)
    time.sleep(10)
    records = _consume(settings, list(zoo.VARIANTS))
    for prefix, messages in records.items():
        _write(prefix, messages, avro=zoo.VARIANTS[prefix].get("avro") == "true")
    write_expected()
    for name in connectors:
        requests.delete(f"{settings.connect.url}/connectors/{name}", timeout=30)
    registry.shutdown()


if __name__ == "__main__":
    main()
