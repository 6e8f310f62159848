"""The roots of Lifeline's exception tree."""


class LifelineError(Exception):
    """Root of every error Lifeline raises."""


class FatalError(LifelineError):
    """Configuration or environment is wrong; retrying will not help."""


class RetryableError(LifelineError):
    """A dependency is unavailable for now; the same call may succeed later."""


class RecordError(LifelineError):
    """One record cannot be processed; it belongs on the dead-letter topic.

    ``kind`` is a short machine-readable error kind (``malformed_json``,
    ``unknown_op`` ...); the message is the readable reason. Neither may hold
    row values.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
