"""Errors of the golden-record cache, translated from redis-py at the boundary.

* :class:`CacheUnavailableError` (retryable): Redis did not answer within the
  retry budget; the same batch may be applied later.
* :class:`CacheAccessError` (fatal): Redis refused the credentials, the ACL
  user's permissions or the TLS set-up; waiting will not help.
* :class:`CacheDataError` (fatal): Redis rejected a command for another
  reason, e.g. a key under the prefix that holds another type because some
  other program writes there.
"""

from __future__ import annotations

import ssl

import redis

from lifeline.errors import FatalError, LifelineError, RetryableError


class CacheUnavailableError(RetryableError):
    """Redis stayed unreachable for longer than the retry budget."""


class CacheAccessError(FatalError):
    """Redis refused Lifeline's credentials, permissions or TLS set-up."""


class CacheDataError(FatalError):
    """Redis rejected a cache command for a reason retrying will not fix."""


# Conditions that pass: the server is unreachable, still loading its data
# after a restart, or (during a fail-over) a replica that cannot take writes.
RETRYABLE: tuple[type[redis.RedisError], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
)


def is_retryable(exc: BaseException) -> bool:
    """Tell whether ``exc`` is an outage worth waiting out."""
    if isinstance(exc, redis.AuthenticationError) or _certificate_refused(exc):
        return False
    return isinstance(exc, RETRYABLE)


def translate(exc: redis.RedisError, what: str) -> LifelineError:
    """The Lifeline error for a redis-py error raised while doing ``what``."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    message = f"redis cache {what}: {detail}"
    if isinstance(exc, redis.AuthenticationError | redis.exceptions.NoPermissionError):
        return CacheAccessError(message)
    if _certificate_refused(exc):
        return CacheAccessError(message)
    if is_retryable(exc):
        return CacheUnavailableError(message)
    return CacheDataError(message)


def _certificate_refused(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    for _ in range(4):
        if cause is None:
            return False
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
