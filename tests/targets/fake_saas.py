"""A scriptable SaaS stand-in: a real HTTP server on 127.0.0.1.

It applies each request's effect once per method, path and
Idempotency-Key (a repeat gets the first answer back, as the contract
demands). Per method and path prefix it can be told to answer the next
requests with 5xx, 429 + Retry-After, to hang past the client's timeout,
to answer slowly, or to wait at a gate until the test opens it. Every
request is recorded with its key and whether its HMAC signature verified.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lifeline.targets.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)

MAX_REQUESTS = 2000
MAX_WAIT = 5.0


@dataclass(frozen=True)
class Act:
    """How to answer one request.

    ``apply`` makes the effect happen (then answer ``status``; for a
    non-2xx status the effect is still applied: the server did the work but
    failed to say so). ``delay`` is slept before answering.
    """

    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    apply: bool = False


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    key: str
    body: Any
    signature_ok: bool
    authorization: str | None


@dataclass
class Effect:
    key: str
    method: str
    path: str
    body: Any
    response: dict[str, Any]


@dataclass
class FakeSaaS:
    secret: bytes
    requests: list[Seen] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    duplicate_status: int = 200
    max_requests: int = MAX_REQUESTS
    _scripts: dict[tuple[str, str], deque[Act]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _gates: dict[str, threading.Event] = field(default_factory=dict)
    _by_key: dict[tuple[str, str, str], Effect] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    # --- test-facing -------------------------------------------------------
    def url(self, path: str) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def script(self, method: str, path: str, *acts: Act) -> None:
        """Answer the next requests to ``method path*`` with ``acts``, in order."""
        with self._lock:
            self._scripts[(method, path)].extend(acts)

    def gate(self, path_prefix: str) -> threading.Event:
        """Requests under ``path_prefix`` wait (at most MAX_WAIT) until set."""
        gate = threading.Event()
        self._gates[path_prefix] = gate
        return gate

    def applied(self, path_prefix: str, method: str = "POST") -> list[Effect]:
        with self._lock:
            return [
                e
                for e in self.effects
                if e.path.startswith(path_prefix) and e.method == method
            ]

    def seen(self, path_prefix: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    # --- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        saas = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                saas._handle(self)

            do_PUT = do_PATCH = do_DELETE = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # many workers connect at once
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        ).start()

    def stop(self) -> None:
        self._stop.set()
        for gate in self._gates.values():
            gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- request handling ----------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        seen = self._record(handler)
        if seen is None:
            self._answer(handler, 503, {})
            return
        act = self._next_act(seen.method, seen.path)
        self._wait_at_gate(seen.path)
        if act.delay:
            self._stop.wait(act.delay)
        if not seen.signature_ok:
            self._answer(handler, 401, {})
            return
        if not act.apply:
            self._answer(handler, act.status, {}, act.retry_after)
            return
        response = self._apply(seen.key, seen.method, seen.path, seen.body)
        if act.status == 200:
            status = response.pop("_status", 200)
            self._answer(handler, status, response, echo_key=seen.key)
        else:
            self._answer(handler, act.status, {}, act.retry_after)

    def _record(self, handler: BaseHTTPRequestHandler) -> Seen | None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        ok = verify(
            self.secret,
            handler.headers.get(TIMESTAMP_HEADER, ""),
            raw,
            handler.headers.get(SIGNATURE_HEADER, ""),
            now=time.time(),
        )
        seen = Seen(
            handler.command,
            handler.path,
            handler.headers.get(IDEMPOTENCY_HEADER, ""),
            json.loads(raw) if raw else None,
            ok,
            handler.headers.get("Authorization"),
        )
        with self._lock:
            if len(self.requests) >= self.max_requests:
                return None
            self.requests.append(seen)
        return seen

    def _next_act(self, method: str, path: str) -> Act:
        with self._lock:
            for (m, prefix), acts in self._scripts.items():
                if m == method and path.startswith(prefix) and acts:
                    return acts.popleft()
        return Act(apply=True)

    def _wait_at_gate(self, path: str) -> None:
        for prefix, gate in list(self._gates.items()):
            if path.startswith(prefix):
                gate.wait(MAX_WAIT)

    def _apply(self, key: str, method: str, path: str, body: Any) -> dict[str, Any]:
        with self._lock:
            earlier = self._by_key.get((method, path, key))
            if earlier is not None:
                return {**earlier.response, "_status": self.duplicate_status}
            if method == "DELETE" and not any(
                e.response.get("id") == path.rsplit("/", 1)[-1]
                for e in self.effects
                if e.method == "POST"
            ):
                return {"_status": 404}
            response = {
                "id": f"{path.strip('/').replace('/', '-')}-{len(self.effects)}"
            }
            effect = Effect(key, method, path, body, response)
            self.effects.append(effect)
            self._by_key[(method, path, key)] = effect
            return dict(response)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        retry_after: str | None = None,
        echo_key: str | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                handler.send_header("Retry-After", retry_after)
            if echo_key:
                handler.send_header(IDEMPOTENCY_HEADER, echo_key)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); the effect stands
