"""Lifeline's exception tree.

Every error Lifeline raises derives from :class:`LifelineError`. Three kinds
matter to callers and are kept apart on purpose:

* :class:`RecordError` - one record is bad; it goes to a dead-letter topic and
  the flow goes on.
* :class:`RetryableError` - a dependency is unavailable for now; wait and retry.
* :class:`FatalError` - configuration or environment is wrong; stop and say why.
"""

from lifeline.errors.base import FatalError, LifelineError, RecordError, RetryableError
from lifeline.errors.stack import ComponentError, ConnectorError, StackStartError

__all__ = [
    "ComponentError",
    "ConnectorError",
    "FatalError",
    "LifelineError",
    "RecordError",
    "RetryableError",
    "StackStartError",
]
