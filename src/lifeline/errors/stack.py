"""Errors of the local stack and of Kafka Connect."""

from lifeline.errors.base import FatalError


class ComponentError(FatalError):
    """A stack component failed to start, stop or become ready."""

    def __init__(self, component: str, reason: str, log_tail: str = "") -> None:
        message = f"{component}: {reason}"
        if log_tail:
            message += f"\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)
        self.component = component


class ConnectorError(FatalError):
    """A Debezium connector could not be applied or did not reach RUNNING."""

    def __init__(self, connector: str, reason: str, trace: str = "") -> None:
        message = f"connector {connector}: {reason}"
        if trace:
            message += f"\n--- worker trace ---\n{trace}"
        super().__init__(message)
        self.connector = connector
