"""The cache over TLS, against a real Redis serving TLS only.

The module makes a throw-away CA, a server certificate for 127.0.0.1 and a
client certificate with the ``openssl`` command, and starts redis-server on
a free port with ``tls-auth-clients yes`` (port 0: no plain TCP at all). It
stops the server at the end.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from lifeline.cache import (
    CacheAccessError,
    CacheReader,
    CacheUnavailableError,
    GoldenCacheWriter,
    Retrier,
    build_client,
)
from lifeline.settings import RedisSettings
from lifeline.stack.server_binaries import redis_server_binary
from tests.cache.conftest import new_prefix
from tests.cache.helpers import upsert, version
from tests.ports import free_port


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _signed(folder: Path, name: str, subject: str, ca: Path, ext: str) -> None:
    key, csr = folder / f"{name}.key", folder / f"{name}.csr"
    extfile = folder / f"{name}.ext"
    extfile.write_text(ext)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
             "-out", csr, "-subj", subject)  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", folder / "ca.key",
             "-CAcreateserial", "-out", folder / f"{name}.pem", "-days", "2",
             "-extfile", extfile)  # fmt: skip


def make_tls_files(folder: Path) -> TlsFiles:
    ca = folder / "ca.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             folder / "ca.key", "-out", ca, "-days", "2",
             "-subj", "/CN=Lifeline test CA")  # fmt: skip
    _signed(folder, "server", "/CN=127.0.0.1", ca, "subjectAltName=IP:127.0.0.1\n")
    _signed(folder, "client", "/CN=lifeline", ca, "extendedKeyUsage=clientAuth\n")
    return TlsFiles(
        ca, folder / "server.pem", folder / "server.key",
        folder / "client.pem", folder / "client.key",
    )  # fmt: skip


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RedisSettings, TlsFiles]]:
    folder = tmp_path_factory.mktemp("redis-tls")
    files = make_tls_files(folder)
    port = free_port()
    config = folder / "redis.conf"
    config.write_text(
        "port 0\n"
        f"tls-port {port}\n"
        "bind 127.0.0.1\n"
        f'tls-cert-file "{files.server_cert}"\n'
        f'tls-key-file "{files.server_key}"\n'
        f'tls-ca-cert-file "{files.ca}"\n'
        "tls-auth-clients yes\n"
        'save ""\n'
        "appendonly no\n"
        f'dir "{folder}"\n'
    )
    log = (folder / "redis.log").open("wb")
    server = subprocess.Popen(
        [str(redis_server_binary()), str(config)], stdout=log, stderr=log
    )
    settings = RedisSettings(
        managed=False,
        host="127.0.0.1",
        port=port,
        tls=True,
        tls_ca_file=files.ca,
        tls_cert_file=files.client_cert,
        tls_key_file=files.client_key,
        connect_timeout=2.0,
        socket_timeout=2.0,
    )
    try:
        _wait_until_up(settings, server)
        yield settings, files
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _wait_until_up(settings: RedisSettings, server: subprocess.Popen[bytes]) -> None:
    client = build_client(settings)
    try:
        for _ in range(100):
            assert server.poll() is None, "redis-server with TLS exited"
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        pytest.fail("redis-server with TLS did not answer")
    finally:
        client.close()


def _apply(settings: RedisSettings, retrier: Retrier) -> Any:
    client = build_client(settings)
    try:
        prefix = new_prefix()
        writer = GoldenCacheWriter(client, prefix, retrier=retrier)
        result = writer.apply([upsert("g1", version(1), source_ids=["erp:1"])])
        found = CacheReader(client, prefix).lookup("erp:1")
        assert [record.golden_id for record in found] == ["g1"]
        return result
    finally:
        client.close()


def test_with_its_ca_and_a_client_certificate_the_cache_works(
    tls_server: tuple[RedisSettings, TlsFiles],
) -> None:
    settings, _ = tls_server
    assert _apply(settings, Retrier(max_wait=0)).applied == 1


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"tls_ca_file": None}, "self-signed certificate"),  # system trust store
        ({"host": "localhost"}, "Hostname mismatch"),
    ],
)
def test_a_server_certificate_not_trusted_fails_at_once(
    tls_server: tuple[RedisSettings, TlsFiles], changes: dict[str, Any], why: str
) -> None:
    settings, _ = tls_server
    retrier = Retrier(max_wait=30.0)

    with pytest.raises(CacheAccessError, match=why):
        _apply(settings.model_copy(update=changes), retrier)

    assert (retrier.retries, retrier.outages) == (0, 0)


def test_a_missing_client_certificate_is_retried_within_the_bound(
    tls_server: tuple[RedisSettings, TlsFiles], caplog: pytest.LogCaptureFixture
) -> None:
    # The server drops the handshake without a word, as a network fault
    # would: it is waited out as an outage (logged with the SSL error) and
    # given up after retry_max_wait, never dropped silently.
    settings, _ = tls_server
    anonymous = settings.model_copy(
        update={"tls_cert_file": None, "tls_key_file": None}
    )
    retrier = Retrier(max_wait=0.35, initial_delay=0.1, max_delay=0.1)

    with pytest.raises(CacheUnavailableError, match="gave up"):
        _apply(anonymous, retrier)

    assert (retrier.outages, retrier.retries) == (1, 3)
    assert "SSLEOFError" in caplog.text
