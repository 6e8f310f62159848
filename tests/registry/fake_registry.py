"""A minimal schema registry speaking the Confluent REST API: a real HTTP server.

This is a stand-in, not a registry implementation. The issue asked for a
real Confluent-compatible registry in these tests, and Karapace (the one
written in Python) was tried first; it cannot run here: it is not published
as a Python package, and its source needs Python 3.12 or later, an Avro fork
fetched from a Git host at install time and a Go toolchain for one of its
extensions, none of which this machine or CI can install. So the tests
start this server on 127.0.0.1 instead.

It keeps, like a real registry, one global id per distinct schema (the same
schema under two subjects has one id) and versions per subject, and
answers the endpoints Lifeline calls with the same paths, bodies, status
codes and ``error_code`` values:

* ``POST /subjects/{subject}/versions`` - register, ``{"id": N}``;
* ``POST /subjects/{subject}`` - look up, 404 (40401, 40403) when absent;
* ``GET /schemas/ids/{id}`` - ``{"schema": "..."}``, 404 (40403);
* ``GET /subjects``, ``GET /subjects/{subject}/versions``;
* ``PUT /config/{subject}`` - ``{"compatibility": "NONE"}`` and the like.

Its compatibility check is simplified: under any level but NONE, a schema
whose record full name differs from the subject's latest is refused with 409
(a real registry refuses it too, and checks far more). It can demand HTTP
basic auth, and be told to answer the next requests with an error status.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.ports import free_port

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass
class FakeRegistry:
    """The registry's state; ``requests`` logs ``(method, path)`` of each call."""

    auth: tuple[str, str] | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)
    _schemas: dict[int, str] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)
    _subjects: dict[str, list[int]] = field(default_factory=dict)
    _compatibility: dict[str, str] = field(default_factory=dict)
    _failures: deque[int] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, one each."""
        with self._lock:
            self._failures.extend(statuses)

    def subjects(self) -> dict[str, list[int]]:
        """Every subject with the schema ids of its versions, oldest first."""
        with self._lock:
            return {name: list(ids) for name, ids in self._subjects.items()}

    def start(self) -> None:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry._handle(self)

            do_POST = do_PUT = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- request handling ----------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length)) if length else None
        with self._lock:
            self.requests.append((handler.command, handler.path))
            failure = self._failures.popleft() if self._failures else None
            if failure is not None:
                status, answer = failure, _error(failure, "scripted failure")
            elif not self._authorised(handler.headers.get("Authorization")):
                status, answer = 401, _error(401, "Unauthorized")
            else:
                status, answer = self._route(handler.command, handler.path, body)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", CONTENT_TYPE)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _authorised(self, header: str | None) -> bool:
        if self.auth is None:
            return True
        expected = base64.b64encode(":".join(self.auth).encode()).decode()
        return header == f"Basic {expected}"

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        match method, parts:
            case "POST", ["subjects", subject, "versions"]:
                return self._register(subject, body["schema"])
            case "POST", ["subjects", subject]:
                return self._lookup(subject, body["schema"])
            case "GET", ["schemas", "ids", number] if number.isdigit():
                schema = self._schemas.get(int(number))
                if schema is None:
                    return 404, _error(40403, "Schema not found")
                return 200, {"schema": schema}
            case "GET", ["subjects"]:
                return 200, sorted(self._subjects)
            case "GET", ["subjects", subject, "versions"] if subject in self._subjects:
                return 200, list(range(1, len(self._subjects[subject]) + 1))
            case "PUT", ["config", subject]:
                self._compatibility[subject] = body["compatibility"]
                return 200, {"compatibility": body["compatibility"]}
        return 404, _error(404, "Not found")

    def _register(self, subject: str, text: str) -> tuple[int, Any]:
        canonical = _canonical(text)
        versions = self._subjects.setdefault(subject, [])
        known = self._ids.get(canonical)
        if known is not None and known in versions:
            return 200, {"id": known}
        level = self._compatibility.get(subject, "BACKWARD")
        if versions and level != "NONE":
            latest = json.loads(self._schemas[versions[-1]])
            if _full_name(latest) != _full_name(json.loads(text)):
                message = "Schema being registered is incompatible"
                return 409, _error(409, message)
        if known is None:
            known = len(self._schemas) + 1
            self._schemas[known] = canonical
            self._ids[canonical] = known
        versions.append(known)
        return 200, {"id": known}

    def _lookup(self, subject: str, text: str) -> tuple[int, Any]:
        versions = self._subjects.get(subject)
        if versions is None:
            return 404, _error(40401, f"Subject '{subject}' not found.")
        known = self._ids.get(_canonical(text))
        if known is None or known not in versions:
            return 404, _error(40403, "Schema not found")
        version = versions.index(known) + 1
        schema = self._schemas[known]
        answer = {"subject": subject, "version": version, "id": known}
        return 200, {**answer, "schema": schema}


def _canonical(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def _full_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    return f"{schema.get('namespace', '')}.{schema.get('name', '')}"


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error_code": code, "message": message}
