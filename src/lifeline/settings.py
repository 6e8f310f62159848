"""Settings for every part of Lifeline, read from the environment.

Every address and credential can be set with a ``LIFELINE_`` environment
variable (nested with ``__``, e.g. ``LIFELINE_POSTGRES__PORT=5432``) or in a
``.env`` file. A component marked ``managed=False`` is an existing server that
Lifeline uses but never starts, stops or reconfigures.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK = "127.0.0.1"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BrokerSettings(_Part):
    """The Kafka-compatible broker."""

    managed: bool = True
    host: str = LOOPBACK
    port: int = 19092
    # Where a managed broker keeps its topics. tansu here supports memory://
    # (lost when the broker stops) and s3:// (needs AWS_* in its environment).
    storage_url: str = Field(default="memory://tansu/", pattern=r"^(memory|s3)://")
    # Extra librdkafka settings (security.protocol, sasl.*, ssl.*) passed
    # through to every client Lifeline creates.
    client_config: dict[str, str] = Field(default_factory=dict)

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` list clients connect to."""
        return f"{self.host}:{self.port}"


class ConnectSettings(_Part):
    """The Kafka Connect worker (distributed mode) running Debezium."""

    managed: bool = True
    host: str = LOOPBACK
    port: int = 18083
    group_id: str = "lifeline-connect"
    # Where the MySQL connector keeps its schema history, as a path on the
    # Connect worker's machine; default: state/connect/history (local stack).
    schema_history_dir: str | None = None
    heap: str = "384m"
    # Extra worker.properties entries in Java client terms (e.g. sasl.jaas.config
    # for a secured broker); they override Lifeline's defaults.
    worker_config: dict[str, str] = Field(default_factory=dict)

    @property
    def url(self) -> str:
        """Base URL of the Connect REST API."""
        return f"http://{self.host}:{self.port}"


class PostgresSettings(_Part):
    """The identity database (PostgreSQL)."""

    managed: bool = True
    host: str = LOOPBACK
    port: int = 15432
    database: str = "identity"
    user: str = "lifeline"
    password: SecretStr = SecretStr("lifeline")
    # The role Debezium connects as; it needs REPLICATION and SELECT.
    cdc_user: str = "debezium"
    cdc_password: SecretStr = SecretStr("debezium")
    # Where Kafka Connect reaches the database, when not where Lifeline does
    # (e.g. a Docker service name); defaults to host and port.
    connect_host: str | None = None
    connect_port: int | None = None

    def dsn(self, *, admin: bool = True) -> str:
        """A libpq connection string for the admin or the CDC role."""
        user = self.user if admin else self.cdc_user
        secret = self.password if admin else self.cdc_password
        return (
            f"host={self.host} port={self.port} dbname={self.database} "
            f"user={user} password={secret.get_secret_value()}"
        )


class MariaDBSettings(_Part):
    """The ERP database (MariaDB or MySQL)."""

    managed: bool = True
    host: str = LOOPBACK
    port: int = 13306
    database: str = "erp"
    user: str = "lifeline"
    password: SecretStr = SecretStr("lifeline")
    cdc_user: str = "debezium"
    cdc_password: SecretStr = SecretStr("debezium")
    # Where Kafka Connect reaches the database, when not where Lifeline does.
    connect_host: str | None = None
    connect_port: int | None = None
    server_id: int = 184054
    # Local-stack workaround, used only when Lifeline starts MariaDB itself:
    # Debezium 3.6.3's MySQL connector misdetects MariaDB 10.11 and sends
    # ``SHOW BINARY LOG STATUS``; a server reporting 5.7.19 gets ``SHOW MASTER
    # STATUS`` instead (5.7.44 fails differently). ``None`` reports the truth.
    version_spoof: str | None = "5.7.19-log"
    # Binary logs older than this are purged by the managed server.
    binlog_expire_days: int = Field(default=3, ge=1)


class RedisSettings(_Part):
    """The Redis lookup cache."""

    managed: bool = True
    host: str = LOOPBACK
    port: int = 16379
    db: int = 0
    # AUTH: the password alone, or an ACL user and its password.
    username: str | None = None
    password: SecretStr | None = None
    # TLS, for an existing server (the managed local server speaks plain TCP).
    # The CA file verifies the server; cert and key files are the client's
    # certificate, for servers that require one (tls-auth-clients).
    tls: bool = False
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_check_hostname: bool = True
    socket_timeout: float = Field(default=5.0, gt=0)
    connect_timeout: float = Field(default=2.0, gt=0)
    # During an outage, cache writers wait and retry with exponential backoff
    # (initial delay doubling up to max delay) for at most retry_max_wait
    # seconds in all, then fail with RetryableError; nothing is dropped.
    retry_max_wait: float = Field(default=300.0, ge=0)
    retry_initial_delay: float = Field(default=0.1, gt=0)
    retry_max_delay: float = Field(default=5.0, gt=0)
    # How long a deleted golden record's version is kept, so that an older
    # replayed change cannot bring it back; 0 keeps tombstones forever. Keep
    # it longer than the oldest replay possible (topic retention).
    tombstone_ttl: float = Field(default=7 * 24 * 3600.0, ge=0)

    @model_validator(mode="after")
    def _tls_files_pair(self) -> RedisSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            msg = "redis tls_cert_file and tls_key_file must be set together"
            raise ValueError(msg)
        files = (self.tls_ca_file, self.tls_cert_file, self.tls_key_file)
        if not self.tls and any(path is not None for path in files):
            msg = "redis tls_* files are set but tls is false"
            raise ValueError(msg)
        return self

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``redis.Redis``: address, AUTH and TLS."""
        kwargs: dict[str, Any] = {"host": self.host, "port": self.port, "db": self.db}
        if self.username:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password.get_secret_value()
        if self.tls:
            kwargs["ssl"] = True
            kwargs["ssl_cert_reqs"] = "required"
            kwargs["ssl_check_hostname"] = self.tls_check_hostname
            if self.tls_ca_file is not None:
                kwargs["ssl_ca_certs"] = str(self.tls_ca_file)
            if self.tls_cert_file is not None and self.tls_key_file is not None:
                kwargs["ssl_certfile"] = str(self.tls_cert_file)
                kwargs["ssl_keyfile"] = str(self.tls_key_file)
        return kwargs


class TopicSettings(_Part):
    """Names of the topics Lifeline reads and writes."""

    erp_prefix: str = "erp"
    identity_prefix: str = "identity"
    dead_letter: str = "lifeline.dead-letter"
    lifecycle: str = "lifeline.lifecycle"
    partitions: int = 1


class Settings(BaseSettings):
    """All of Lifeline's settings."""

    model_config = SettingsConfigDict(
        env_prefix="LIFELINE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    state_dir: Path = Path("state")
    ownership_file: Path = Path("config/ownership.yaml")
    resolution_file: Path = Path("config/resolution.yaml")
    targets_file: Path = Path("config/targets.yaml")
    # Longest a deliveries batch may wait for every target to settle before
    # the worker fails and recovery re-delivers (idempotently).
    delivery_drain_timeout: float = 600.0
    cache_prefix: str = Field(default="ll", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    broker: BrokerSettings = BrokerSettings()
    connect: ConnectSettings = ConnectSettings()
    postgres: PostgresSettings = PostgresSettings()
    mariadb: MariaDBSettings = MariaDBSettings()
    redis: RedisSettings = RedisSettings()
    topics: TopicSettings = TopicSettings()

    @cached_property
    def state_path(self) -> Path:
        """Absolute state directory, created on first use."""
        path = self.state_dir.resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
