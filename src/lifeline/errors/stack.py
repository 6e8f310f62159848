"""Errors of the local stack and of Kafka Connect."""

from collections.abc import Sequence

from lifeline.errors.base import FatalError


class ComponentError(FatalError):
    """A stack component failed to start, stop or become ready."""

    def __init__(self, component: str, reason: str, log_tail: str = "") -> None:
        message = f"{component}: {reason}"
        if log_tail:
            message += f"\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)
        self.component = component


class StackStartError(FatalError):
    """``stack up`` failed; the components that call had started were stopped."""

    def __init__(self, cause: Exception, stopped: Sequence[str]) -> None:
        message = str(cause)
        if stopped:
            message += f"\nstopped what this stack up had started: {', '.join(stopped)}"
        super().__init__(message)
        self.stopped = tuple(stopped)


class ConnectorError(FatalError):
    """A Debezium connector could not be applied or did not reach RUNNING."""

    def __init__(self, connector: str, reason: str, trace: str = "") -> None:
        message = f"connector {connector}: {reason}"
        if trace:
            message += f"\n--- worker trace ---\n{trace}"
        super().__init__(message)
        self.connector = connector
