"""The object store behind a durable broker: moto's S3-compatible server.

Only a broker with ``s3://`` storage needs it. The managed store is moto's
server from the ``moto[server]`` wheel, on ``settings.s3.host:port``, its pid
and log under ``state/run``. It keeps objects in its own memory: topics
survive any number of broker restarts (kill -9 included), not a restart of
the store itself; ``stack up`` treats a broker whose store restarted as
empty. An external store (``s3.managed=False``) is only checked, and its
bucket must exist.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from urllib.parse import urlsplit

import requests

from lifeline.errors import ComponentError
from lifeline.settings import S3Settings, Settings
from lifeline.stack.process import ManagedProcess
from lifeline.stack.server import ServerComponent

logger = logging.getLogger(__name__)

NAME = "s3"
_PROBE_TIMEOUT = 3.0


class ObjectStore(ServerComponent):
    """The S3-compatible store of ``settings.s3``; creates the broker's bucket."""

    name = NAME
    probe_errors = (requests.RequestException, ComponentError)
    start_timeout = 30.0
    stop_timeout = 15.0
    ready_what = "answering S3 requests"

    def __init__(self, settings: Settings) -> None:
        self._s3: S3Settings = settings.s3
        self.bucket = bucket_of(settings.broker.storage_url)
        process = ManagedProcess(NAME, settings.state_path / "run")
        super().__init__(self._s3.host, self._s3.port, self._s3.managed, process)

    def _launch(self) -> None:
        if importlib.util.find_spec("moto") is None:
            raise ComponentError(
                NAME,
                "moto is not installed; install the stack extra: "
                "pip install 'lifeline-cdc[stack]'",
            )
        argv = [
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            self._s3.host,
            "-p",
            str(self._s3.port),
        ]
        self._process.spawn(argv, cwd=self._process.run_dir)
        logger.info("starting component=%s address=%s", NAME, self.address)

    def _server_facts(self) -> str:
        response = requests.get(self._s3.endpoint + "/", timeout=_PROBE_TIMEOUT)
        return f"S3 endpoint answered {response.status_code}, bucket {self.bucket}"

    def _start_finished(self, ready: bool) -> None:
        if ready:
            self._create_bucket()

    def _create_bucket(self) -> None:
        """Create the broker's bucket in the managed store (idempotent)."""
        url = f"{self._s3.endpoint}/{self.bucket}"
        try:
            response = requests.put(url, timeout=_PROBE_TIMEOUT)
        except requests.RequestException as exc:
            reason = f"cannot create bucket {self.bucket}: {exc}"
            raise ComponentError(NAME, reason) from exc
        if response.status_code not in (200, 409):
            reason = f"creating bucket {self.bucket} answered {response.status_code}"
            raise ComponentError(NAME, reason)


def bucket_of(storage_url: str) -> str:
    """The bucket of an ``s3://bucket/`` storage URL ('' for other schemes)."""
    parts = urlsplit(storage_url)
    return parts.netloc if parts.scheme == "s3" else ""


def broker_environment(settings: Settings) -> dict[str, str]:
    """The ``AWS_*`` variables a broker with ``s3://`` storage runs with.

    The endpoint is always set, so the broker never reaches past the
    configured store.
    """
    s3 = settings.s3
    return {
        "AWS_ENDPOINT": s3.endpoint,
        "AWS_ALLOW_HTTP": "true" if s3.allow_http else "false",
        "AWS_DEFAULT_REGION": s3.region,
        "AWS_REGION": s3.region,
        "AWS_ACCESS_KEY_ID": s3.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(),
    }
