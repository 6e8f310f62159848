"""What the managed servers of the stack share: start, stop and status.

A :class:`ServerComponent` is either *managed* (Lifeline starts it from the
machine's binaries, with its own data directory under ``state/``) or
*external* (an existing server Lifeline only checks). Subclasses say how to
launch their server and how to ask it for facts; this class keeps the rules
of :class:`~lifeline.stack.base.Component` the same for all of them.
"""

from __future__ import annotations

import abc
import logging
import time

from lifeline.errors import ComponentError
from lifeline.stack.base import Component, ComponentStatus, State
from lifeline.stack.process import ManagedProcess, port_open, wait_until

logger = logging.getLogger(__name__)

PORT_TAKEN = "port in use by a process Lifeline did not start"


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, for status details and errors."""
    return " ".join(str(exc).split()) or type(exc).__name__


class ServerComponent(Component):
    """A database-like server reached on ``host:port``.

    Subclasses set ``probe_errors`` (what their client raises when the server
    does not answer) and implement ``_launch`` and ``_server_facts``.
    """

    probe_errors: tuple[type[Exception], ...] = (Exception,)
    start_timeout = 60.0
    stop_timeout = 30.0
    ready_what = "answering queries"

    def __init__(
        self, host: str, port: int, managed: bool, process: ManagedProcess
    ) -> None:
        self._host = host
        self._port = port
        self._managed = managed
        self._process = process

    @property
    def address(self) -> str:
        """``host:port`` clients connect to."""
        return f"{self._host}:{self._port}"

    @abc.abstractmethod
    def _launch(self) -> None:
        """Spawn the server process (initialising its data on first use)."""

    @abc.abstractmethod
    def _server_facts(self) -> str:
        """Ask the server, as the configured user, for a one-line summary."""

    def _ready_probe(self) -> bool:
        """True once the server answers; may raise ``probe_errors``."""
        self._server_facts()
        return True

    def _check_credentials(self) -> None:
        try:
            self._server_facts()
        except self.probe_errors as exc:
            reason = (
                f"the server runs but refuses the configured user ({one_line(exc)});"
                " was its data directory initialised with other credentials?"
            )
            raise ComponentError(self.name, reason) from exc

    def _start_finished(self, ready: bool) -> None:
        """Hook run after a start attempt, ``ready`` telling how it went."""

    def _terminate(self) -> None:
        self._process.terminate(timeout=self.stop_timeout)

    def start(self) -> None:
        """Start the managed server and wait for queries; check an external one."""
        if not self._managed:
            self._check_external()
            return
        if self._process.pid() is not None and self._answers():
            return
        began = time.monotonic()
        ready = False
        try:
            if self._process.pid() is None:
                self._ensure_port_free()
                self._launch()
            wait_until(
                self.name,
                self._ready_probe,
                timeout=self.start_timeout,
                what=self.ready_what,
                process=self._process,
            )
            self._check_credentials()
            ready = True
        finally:
            self._start_finished(ready)
        logger.info(
            "ready component=%s address=%s seconds=%.1f",
            self.name,
            self.address,
            time.monotonic() - began,
        )

    def stop(self) -> None:
        """Stop the server if Lifeline started it."""
        if self._managed:
            self._terminate()

    def pid(self) -> int | None:
        """The managed server's live process, else None."""
        return self._process.pid() if self._managed else None

    def status(self) -> ComponentStatus:
        """RUNNING/UNHEALTHY/STOPPED when managed, EXTERNAL/UNREACHABLE if not."""
        if not self._managed:
            detail, answered = self._facts_or_error()
            state = State.EXTERNAL if answered else State.UNREACHABLE
            return ComponentStatus(self.name, state, self.address, detail=detail)
        pid = self._process.pid()
        if pid is None:
            detail = PORT_TAKEN if port_open(self._host, self._port) else ""
            return ComponentStatus(
                self.name, State.STOPPED, self.address, detail=detail
            )
        detail, answered = self._facts_or_error()
        return ComponentStatus(
            self.name,
            State.RUNNING if answered else State.UNHEALTHY,
            self.address,
            pid=pid,
            started_at=self._process.started_at(),
            detail=detail,
        )

    def _facts_or_error(self) -> tuple[str, bool]:
        try:
            return self._server_facts(), True
        except self.probe_errors as exc:
            return one_line(exc), False

    def _answers(self) -> bool:
        return self._facts_or_error()[1]

    def _ensure_port_free(self) -> None:
        if port_open(self._host, self._port):
            raise ComponentError(self.name, f"{self.address}: {PORT_TAKEN}")

    def _check_external(self) -> None:
        detail, answered = self._facts_or_error()
        if not answered:
            reason = f"external server at {self.address} not usable: {detail}"
            raise ComponentError(self.name, reason)
