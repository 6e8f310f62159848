"""One HTTP attempt against an endpoint, and what its answer means.

Every request carries ``Idempotency-Key``, ``X-Lifeline-Timestamp`` and
``X-Lifeline-Signature`` (see :mod:`lifeline.targets.signing`), plus the
endpoint's Authorization. The answer is classified, never raised:

* 2xx: delivered; 409 with our Idempotency-Key echoed (or with
  ``conflict_is_success``): delivered, the target already had it;
* 408, 5xx, timeouts and connection errors: retry, and a breaker failure;
* 429: retry, after its Retry-After, and not a breaker failure;
* any other answer (4xx, 3xx): permanent, the delivery is dead-lettered.

Error texts name the status or exception type only, never a response body,
a URL or a credential: they go into logs and dead letters.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
import requests
from pydantic import SecretStr

from lifeline.emit.encoding import dumps
from lifeline.targets.backoff import parse_retry_after
from lifeline.targets.config import BasicAuth, BearerAuth, Endpoint
from lifeline.targets.errors import TargetConfigError
from lifeline.targets.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

USER_AGENT = "lifeline-targets/1"
_PERMANENT_EXCEPTIONS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


class Verdict(StrEnum):
    """What an attempt means for its delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


class Health(StrEnum):
    """What an attempt means for the endpoint's circuit breaker."""

    GOOD = "good"
    BAD = "bad"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Attempt:
    """The classified result of one request; ``response`` is its JSON body."""

    verdict: Verdict
    health: Health
    status: int | None = None
    error: str = ""
    retry_after: float | None = None
    response: Any = None
    duplicate: bool = False


@dataclass(frozen=True)
class Credentials:
    """An endpoint's secrets, read from the environment once."""

    hmac_secret: SecretStr
    authorization: SecretStr | None = None


def credentials_for(
    owner: str, endpoint: Endpoint, env: Mapping[str, str]
) -> Credentials:
    """Read the endpoint's secrets; TargetConfigError names a missing variable."""

    def read(name: str) -> str:
        value = env.get(name)
        if not value:
            msg = f"{owner}: environment variable {name} is not set or empty"
            raise TargetConfigError(msg)
        return value

    authorization: str | None = None
    if isinstance(endpoint.auth, BearerAuth):
        authorization = f"Bearer {read(endpoint.auth.token_env)}"
    elif isinstance(endpoint.auth, BasicAuth):
        pair = f"{read(endpoint.auth.username_env)}:{read(endpoint.auth.password_env)}"
        authorization = f"Basic {base64.b64encode(pair.encode()).decode()}"
    return Credentials(
        hmac_secret=SecretStr(read(endpoint.hmac_secret_env)),
        authorization=None if authorization is None else SecretStr(authorization),
    )


class EndpointClient:
    """Sends signed requests to one endpoint; one requests.Session per thread."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._endpoint = endpoint
        self._credentials = credentials
        self._wall_clock = wall_clock
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def send(
        self,
        method: str,
        url: str,
        body: Mapping[str, Any] | None,
        idempotency_key: str,
        *,
        gone_is_success: bool = False,
    ) -> Attempt:
        """Make one request and classify the answer; never raises for HTTP.

        ``gone_is_success`` makes 404 and 410 a success (for compensations:
        what is to be undone is already gone).
        """
        data = b"" if body is None else dumps(body)
        headers = self._headers(data, idempotency_key)
        timeout = (self._endpoint.connect_timeout, self._endpoint.timeout)
        try:
            response = self._session().request(
                method, url, data=data, headers=headers, timeout=timeout,
                allow_redirects=False,
            )  # fmt: skip
        except requests.Timeout:
            error = f"timeout after {self._endpoint.timeout}s"
            return Attempt(Verdict.RETRY, Health.BAD, error=error)
        except _PERMANENT_EXCEPTIONS as exc:
            return Attempt(Verdict.PERMANENT, Health.NEUTRAL, error=type(exc).__name__)
        except requests.RequestException as exc:
            return Attempt(Verdict.RETRY, Health.BAD, error=type(exc).__name__)
        with response:
            return self._classify(response, idempotency_key, gone_is_success)

    def close(self) -> None:
        """Close every thread's session."""
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _headers(self, data: bytes, idempotency_key: str) -> dict[str, str]:
        timestamp = int(self._wall_clock())
        secret = self._credentials.hmac_secret.get_secret_value().encode()
        headers = {
            **self._endpoint.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: idempotency_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, data),
        }
        authorization = self._credentials.authorization
        if authorization is not None:
            headers["Authorization"] = authorization.get_secret_value()
        return headers

    def _classify(
        self, response: requests.Response, key: str, gone_is_success: bool
    ) -> Attempt:
        status = response.status_code
        if 200 <= status < 300 or (gone_is_success and status in (404, 410)):
            body = _json(response)
            return Attempt(Verdict.DELIVERED, Health.GOOD, status, response=body)
        if status == 409 and (
            self._endpoint.conflict_is_success
            or response.headers.get(IDEMPOTENCY_HEADER) == key
        ):
            return Attempt(
                Verdict.DELIVERED, Health.GOOD, status, response=_json(response),
                duplicate=True,
            )  # fmt: skip
        error = f"HTTP {status}"
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), datetime.now(UTC)
        )
        if status == 429:
            return Attempt(Verdict.RETRY, Health.NEUTRAL, status, error, retry_after)
        if status == 408 or status >= 500:
            return Attempt(Verdict.RETRY, Health.BAD, status, error, retry_after)
        return Attempt(Verdict.PERMANENT, Health.GOOD, status, error)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
