"""Where Avro writer schemas come from: a schema registry or a directory.

A Confluent-framed Avro record names its writer schema by a 4-byte id. A
:class:`SchemaSource` resolves that id to the schema (parsed JSON).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import orjson
import requests

from lifeline.errors import FatalError, RecordError, RetryableError

logger = logging.getLogger(__name__)


class SchemaSource(Protocol):
    """Resolves schema ids to Avro schemas.

    ``schema`` blocks at most for one network round trip. It raises
    RecordError (``unknown_schema``) when no schema has that id - the record
    is bad - RetryableError when the source cannot answer now, and
    FatalError when it refuses Lifeline (credentials, wrong address).
    """

    def schema(self, schema_id: int) -> Any:
        """The writer schema registered under ``schema_id``."""
        ...


class SchemaDirectory:
    """Schemas in files ``<id>.avsc`` of one directory (tests, offline use).

    Reader schemas, for Avro schema resolution, are ``readers/<topic>.avsc``.
    """

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise FatalError(f"schema directory {path} does not exist")
        self._path = path

    def schema(self, schema_id: int) -> Any:
        """The schema in ``<id>.avsc``; RecordError when there is none."""
        return _read_schema(self._path / f"{schema_id}.avsc", f"schema id {schema_id}")

    def reader_schemas(self) -> dict[str, Any]:
        """Reader schemas by topic, from ``readers/<topic>.avsc``."""
        folder = self._path / "readers"
        if not folder.is_dir():
            return {}
        return {
            file.stem: _read_schema(file, f"reader schema of {file.stem}")
            for file in sorted(folder.glob("*.avsc"))
        }


def _read_schema(file: Path, what: str) -> Any:
    try:
        data = file.read_bytes()
    except FileNotFoundError as exc:
        raise RecordError(
            "unknown_schema", f"no {what} in the schema directory"
        ) from exc
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FatalError(f"{file} is not JSON: {exc.msg}") from exc


class RegistrySchemaSource:
    """A Confluent-compatible schema registry, read with ``GET /schemas/ids/{id}``.

    Schemas never change under an id, so every answer is kept for the life of
    the object.
    """

    def __init__(
        self, url: str, session: requests.Session | None = None, timeout: float = 10.0
    ) -> None:
        self._url = url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._cache: dict[int, Any] = {}

    def schema(self, schema_id: int) -> Any:
        """The schema registered under ``schema_id`` (see :class:`SchemaSource`)."""
        cached = self._cache.get(schema_id)
        if cached is None:
            cached = self._cache[schema_id] = self._fetch(schema_id)
        return cached

    def _fetch(self, schema_id: int) -> Any:
        url = f"{self._url}/schemas/ids/{schema_id}"
        try:
            response = self._session.get(url, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RetryableError(f"schema registry at {self._url}: {exc}") from exc
        status = response.status_code
        if status == 404:
            raise RecordError(
                "unknown_schema", f"registry has no schema id {schema_id}"
            )
        if status >= 500 or status == 429:
            raise RetryableError(f"schema registry answered {status} for {url}")
        if status != 200:
            raise FatalError(f"schema registry answered {status} for {url}")
        try:
            schema = orjson.loads(response.json()["schema"])
        except (ValueError, KeyError, TypeError) as exc:
            raise FatalError(f"schema registry sent no schema for {url}") from exc
        logger.info("schema fetched schema_id=%d registry=%s", schema_id, self._url)
        return schema
