"""The contract every stack component keeps."""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from datetime import datetime


class State(enum.Enum):
    """What ``status`` found."""

    RUNNING = "running"  # started by Lifeline and ready
    STOPPED = "stopped"  # managed by Lifeline, not running
    EXTERNAL = "external"  # not managed by Lifeline, reachable
    UNREACHABLE = "unreachable"  # not managed by Lifeline, not reachable
    UNHEALTHY = "unhealthy"  # process alive but not answering


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """One line of ``lifeline stack status``."""

    name: str
    state: State
    address: str
    pid: int | None = None
    started_at: datetime | None = None
    detail: str = ""


class Component(abc.ABC):
    """A server in the local stack.

    ``start`` is idempotent: when the component already runs it returns at
    once; otherwise it starts the process, blocks until the component really
    answers (not merely until the process exists) and raises
    :class:`~lifeline.errors.ComponentError` with the tail of its log when it
    does not within its timeout. A component whose settings say
    ``managed=False`` is never started or stopped; ``start`` only checks that
    it is reachable. ``stop`` ends only a process this component started (its
    pid file under ``state/``) and is a no-op otherwise.
    """

    name: str

    @abc.abstractmethod
    def start(self) -> None:
        """Start the component (if managed) and wait until it is ready."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the component if Lifeline started it."""

    @abc.abstractmethod
    def status(self) -> ComponentStatus:
        """Report the component's state without changing it."""

    @abc.abstractmethod
    def pid(self) -> int | None:
        """The live process Lifeline started for it, else None; never probes."""
