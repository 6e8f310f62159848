"""Errors of the SaaS targets area.

A failed HTTP attempt is not an exception: it is an :class:`Attempt` with a
verdict (see :mod:`lifeline.targets.http`). Exceptions here are for the
configuration (fatal) and for the topics dead letters and exception cases go
to (retry later).
"""

from __future__ import annotations

from lifeline.errors import FatalError, RetryableError


class TargetConfigError(FatalError):
    """The targets configuration, or a credential it names, is invalid."""


class RecordSinkError(RetryableError):
    """A dead letter or exception case was not acknowledged by its topic."""


class RecordSourceError(RetryableError):
    """The dead-letter topic could not be read to its end."""
