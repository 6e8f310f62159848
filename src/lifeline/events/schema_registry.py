"""A Confluent-compatible schema registry for the lifecycle events topic.

With a registry configured (:class:`~lifeline.settings.SchemaRegistrySettings`)
the topic carries Confluent frames: magic byte 0, the id the registry gave
the writer schema (4 bytes, big-endian), the Avro body. :class:`TopicSchemaIds`
registers each event's current schema once under its subject and keeps the
id; readers resolve ids with :meth:`SchemaRegistryClient.schema`.

Subjects follow the strategy chosen: ``topic_name`` (``<topic>-value``, the
Confluent default: every event type under one subject, so its compatibility
must be NONE; each event's own evolution is checked by Lifeline's tests),
``record_name`` (``io.lifeline.events.<Event>``) or ``topic_record_name``
(``<topic>-io.lifeline.events.<Event>``).

Errors are translated here. An unreachable registry (connection, timeout,
5xx, 429) is retried with doubling delays for at most ``retry_max_wait``
seconds, then raises :class:`SchemaRegistryUnavailableError` (retryable);
refused credentials, an incompatible schema, or a schema that is not
registered while registration is off raise :class:`SchemaRegistryError`
(fatal), naming the subject and what to do. Messages never hold credentials.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import orjson
import requests

from lifeline.decode.schema_source import RegistrySchemaSource
from lifeline.errors import FatalError, RetryableError
from lifeline.events.registry import EventSchemas
from lifeline.settings import SchemaRegistrySettings

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_FIRST_DELAY = 0.2
_MAX_DELAY = 5.0


class SchemaRegistryError(FatalError):
    """The registry refused Lifeline or one of its schemas; retrying won't help."""


class SchemaRegistryUnavailableError(RetryableError):
    """The registry did not answer within the retry budget."""


class SubjectStrategy(StrEnum):
    """How the subject an event schema is registered under is named."""

    TOPIC_NAME = "topic_name"
    RECORD_NAME = "record_name"
    TOPIC_RECORD_NAME = "topic_record_name"


def subject_name(strategy: str, topic: str, full_name: str) -> str:
    """The value subject of record ``full_name`` on ``topic`` under ``strategy``."""
    chosen = SubjectStrategy(strategy)
    if chosen is SubjectStrategy.TOPIC_NAME:
        return f"{topic}-value"
    if chosen is SubjectStrategy.RECORD_NAME:
        return full_name
    return f"{topic}-{full_name}"


class SchemaRegistryClient:
    """Registers and looks up Avro schemas over the registry's REST API.

    :meth:`schema` (``GET /schemas/ids/{id}``) makes it a
    :class:`~lifeline.decode.schema_source.SchemaSource`: answers are kept
    for the life of the client, since an id never changes its schema.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
        retry_max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.auth = auth
        self._session.verify = verify
        self._session.headers.update({"Accept": CONTENT_TYPE})
        self._timeout = timeout
        self._max_wait = retry_max_wait
        self._sleep = sleep
        self._reader = RegistrySchemaSource(self.url, self._session, timeout)
        self.retries = 0

    @classmethod
    def from_settings(
        cls, settings: SchemaRegistrySettings
    ) -> SchemaRegistryClient | None:
        """A client for the configured registry; None when no url is set."""
        if settings.url is None:
            return None
        auth = None
        if settings.username is not None and settings.password is not None:
            auth = (settings.username, settings.password.get_secret_value())
        return cls(
            settings.url,
            auth=auth,
            verify=True if settings.ca_file is None else str(settings.ca_file),
            timeout=settings.timeout,
            retry_max_wait=settings.retry_max_wait,
        )

    def register(self, subject: str, schema: Mapping[str, Any]) -> int:
        """Register ``schema`` under ``subject``; its id (the same when known)."""
        path = f"/subjects/{quote(subject, safe='')}/versions"
        return _schema_id(self._post(path, schema, subject, "register"), subject)

    def lookup(self, subject: str, schema: Mapping[str, Any]) -> int:
        """The id ``schema`` has under ``subject``; SchemaRegistryError if none."""
        path = f"/subjects/{quote(subject, safe='')}"
        return _schema_id(self._post(path, schema, subject, "look up"), subject)

    def schema(self, schema_id: int) -> Any:
        """The schema registered under ``schema_id`` (see SchemaSource)."""
        return self._reader.schema(schema_id)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def _post(
        self, path: str, schema: Mapping[str, Any], subject: str, action: str
    ) -> Any:
        body = orjson.dumps({"schema": orjson.dumps(dict(schema)).decode()})
        delay, waited = _FIRST_DELAY, 0.0
        while True:
            answer, problem = self._try_post(path, body, subject, action)
            if not problem:
                return answer
            if waited + delay > self._max_wait:
                msg = (
                    f"schema registry at {self.url}: cannot {action} under "
                    f"subject {subject}: {problem} (gave up after {waited:.1f}s)"
                )
                raise SchemaRegistryUnavailableError(msg)
            logger.warning(
                "schema registry unavailable url=%s subject=%s retry_in=%.1fs "
                "error=%s",
                self.url, subject, delay, problem,
            )  # fmt: skip
            self._sleep(delay)
            waited += delay
            self.retries += 1
            delay = min(delay * 2, _MAX_DELAY)

    def _try_post(
        self, path: str, body: bytes, subject: str, action: str
    ) -> tuple[Any, str]:
        """The JSON answer and "", or None and the passing problem to retry."""
        headers = {"Content-Type": CONTENT_TYPE}
        try:
            response = self._session.post(
                self.url + path, data=body, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            return None, type(exc).__name__
        status = response.status_code
        if status == 429 or status >= 500:
            return None, f"HTTP {status}"
        if status >= 300:
            raise _refused(self.url, subject, action, response)
        try:
            return response.json(), ""
        except ValueError:
            return None, f"HTTP {status} without a JSON body"


def _schema_id(answer: Any, subject: str) -> int:
    schema_id = answer.get("id") if isinstance(answer, dict) else None
    if type(schema_id) is not int or schema_id < 0:
        msg = f"schema registry answered without a schema id for subject {subject}"
        raise SchemaRegistryError(msg)
    return schema_id


def _refused(
    url: str, subject: str, action: str, response: requests.Response
) -> SchemaRegistryError:
    status = response.status_code
    code = _error_code(response)
    where = f"schema registry at {url}: cannot {action} under subject {subject}"
    if status in (401, 403):
        hint = "it refused the credentials (schema_registry username/password)"
    elif status == 409:
        hint = (
            "the schema is incompatible with the subject's earlier versions; "
            "with subject_strategy topic_name every event type shares one "
            "subject: set its compatibility to NONE or choose record_name or "
            "topic_record_name"
        )
    elif status == 404:
        hint = (
            "the schema is not registered there; register it (or turn "
            "schema_registry auto_register on)"
        )
    elif status == 422:
        hint = "it refused the schema as invalid"
    else:
        hint = "unexpected answer"
    return SchemaRegistryError(f"{where}: HTTP {status}{code}: {hint}")


def _error_code(response: requests.Response) -> str:
    try:
        code = response.json().get("error_code")
    except (ValueError, AttributeError):
        return ""
    return f" (error_code {code})" if isinstance(code, int) else ""


class TopicSchemaIds:
    """The registry id of each event type's current schema on one topic.

    The first call for an event type registers its schema (only looks it
    up when ``auto_register`` is off) under the strategy's subject; later
    calls return the kept id. Thread-safe; a call blocks while another
    thread registers.
    """

    def __init__(
        self,
        client: SchemaRegistryClient,
        topic: str,
        strategy: str = SubjectStrategy.TOPIC_NAME,
        *,
        auto_register: bool = True,
        schemas: EventSchemas | None = None,
    ) -> None:
        self._client = client
        self._topic = topic
        self._strategy = SubjectStrategy(strategy)
        self._auto_register = auto_register
        self._schemas = schemas if schemas is not None else EventSchemas.load()
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: SchemaRegistrySettings, topic: str, schemas: EventSchemas
    ) -> TopicSchemaIds | None:
        """Ids for ``topic`` from the configured registry; None without one."""
        client = SchemaRegistryClient.from_settings(settings)
        if client is None:
            return None
        return cls(
            client, topic, settings.subject_strategy,
            auto_register=settings.auto_register, schemas=schemas,
        )  # fmt: skip

    def schema_id(self, event_type: str) -> int:
        """The id to frame ``event_type`` events with (KeyError if unknown)."""
        found = self._ids.get(event_type)
        if found is not None:
            return found
        with self._lock:
            found = self._ids.get(event_type)
            if found is None:
                found = self._ids[event_type] = self._resolve(event_type)
            return found

    def close(self) -> None:
        """Close the client."""
        self._client.close()

    def _resolve(self, event_type: str) -> int:
        schema = self._schemas.current(event_type)
        subject = subject_name(self._strategy, self._topic, schema.full_name)
        if self._auto_register:
            schema_id = self._client.register(subject, schema.definition)
        else:
            schema_id = self._client.lookup(subject, schema.definition)
        logger.info(
            "event schema id event_type=%s version=%d subject=%s schema_id=%d",
            event_type, schema.version, subject, schema_id,
        )  # fmt: skip
        return schema_id
