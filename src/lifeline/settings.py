"""Settings for every part of Lifeline, read from the environment.

Every address and credential can be set with a ``LIFELINE_`` environment
variable (nested with ``__``, e.g. ``LIFELINE_POSTGRES__PORT=5432``) or in a
``.env`` file. A component marked ``managed=False`` is an existing server that
Lifeline uses but never starts, stops or reconfigures.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK = "127.0.0.1"
# Names Lifeline puts into SQL and connector configs unquoted.
_NAME = r"^[a-z_][a-z0-9_]{0,62}$"
_QUALIFIED = r"^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BrokerSettings(_Part):
    """The Kafka-compatible broker."""

    managed: bool = True
    host: str = LOOPBACK
    port: int = 19092
    # Where a managed broker keeps its topics. tansu here supports memory://
    # (lost when the broker stops) and s3:// (needs AWS_* in its environment).
    # s3:// keeps them in the object store of ``settings.s3``: topics and
    # committed offsets then survive a broker restart (also a kill -9).
    storage_url: str = Field(default="memory://tansu/", pattern=r"^(memory|s3)://")
    # Extra librdkafka settings (security.protocol, sasl.*, ssl.*) passed
    # through to every client Lifeline creates.
    client_config: dict[str, str] = Field(default_factory=dict)

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` list clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def durable(self) -> bool:
        """True when topics outlive the broker process (object storage)."""
        return self.storage_url.startswith("s3://")


class S3Settings(_Part):
    """The S3-compatible object store a broker with ``s3://`` storage uses.

    The managed one is moto's server (objects in its memory: they survive
    broker restarts, not ``stack down``); ``managed=False`` names an
    existing store. Lifeline passes these to the broker as ``AWS_*``
    variables, always with an explicit endpoint.
    """

    managed: bool = True
    host: str = LOOPBACK
    port: int = 19000
    region: str = "us-east-1"
    access_key_id: str = "lifeline"
    secret_access_key: SecretStr = SecretStr("lifeline")
    # Plain HTTP to the endpoint (the managed store speaks nothing else).
    allow_http: bool = True

    @property
    def endpoint(self) -> str:
        """The store's base URL."""
        scheme = "http" if self.allow_http else "https"
        return f"{scheme}://{self.host}:{self.port}"


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
    # The connector's logical replication slot; one per Lifeline deployment
    # reading this database.
    slot_name: str = Field(default="lifeline_identity", pattern=_NAME)
    # Tables Lifeline keeps next to the captured ones (schema.table): the
    # signal table ``lifeline snapshot`` writes to and Debezium reads
    # incremental snapshot requests and watermarks from, and the one-row
    # table heartbeat.action.query updates so an idle slot keeps advancing.
    signal_table: str = Field(default="public.lifeline_signal", pattern=_QUALIFIED)
    heartbeat_table: str = Field(
        default="public.lifeline_heartbeat", pattern=_QUALIFIED
    )
    # ``lifeline slots`` (and the slot-lag gauge) warn above this much WAL
    # kept by a replication slot.
    slot_lag_warn_bytes: int = Field(default=1 << 30, gt=0)

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
    # The signal table, in ``database`` (Debezium reads it from the binlog,
    # so it must live in a captured database).
    signal_table: str = Field(default="lifeline_signal", pattern=_NAME)


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
    # Append-only audit trail of golden-record changes: never compact it.
    audit: str = "lifeline.audit"
    # Debezium's notifications (incremental snapshot progress), all connectors.
    notifications: str = "lifeline.debezium-notifications"
    # Order-line changes no OrderPlaced took (late or outside their window).
    late: str = "lifeline.late"
    partitions: int = 1


class WindowSettings(_Part):
    """How the golden flow coalesces an order and its lines into one event.

    Changes of one source transaction form one window; without transaction
    ids, a window spans ``order_window`` seconds of source commit time around
    the order's own change, and a snapshot's ``snapshot_window``. The
    watermark is the latest commit time seen minus ``allowed_lateness``;
    after ``idle_timeout`` seconds without input every open window closes.
    See docs/golden-record.md.
    """

    order_window: float = Field(default=2.0, ge=0, le=3600)
    snapshot_window: float = Field(default=60.0, ge=0, le=86400)
    allowed_lateness: float = Field(default=1.0, ge=0, le=3600)
    idle_timeout: float = Field(default=1.0, gt=0, le=86400)


class SchemaRegistrySettings(_Part):
    """A Confluent-compatible schema registry for the lifecycle events topic.

    Without ``url`` lifecycle events are Avro single-object encoded and no
    registry is used. With it, each event's schema is registered (looked up
    only, when ``auto_register`` is off) under its subject and every event is
    framed in the Confluent wire format; readers fetch schemas by id. See
    docs/golden-record.md.
    """

    url: str | None = None
    # HTTP basic auth (LIFELINE_SCHEMA_REGISTRY__USERNAME / __PASSWORD).
    username: str | None = None
    password: SecretStr | None = None
    # Subject per event: topic_name "<topic>-value" (every event type under
    # one subject, whose compatibility must then be NONE), record_name
    # "<namespace>.<Event>", topic_record_name "<topic>-<namespace>.<Event>".
    subject_strategy: Literal["topic_name", "record_name", "topic_record_name"] = (
        "topic_name"
    )
    auto_register: bool = True
    # CA bundle for an https registry (default: the system's trust store).
    ca_file: Path | None = None
    timeout: float = Field(default=10.0, gt=0)
    # An unreachable registry is retried with doubling delays for at most
    # this many seconds in all, then the flow fails (and recovery retries).
    retry_max_wait: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _valid(self) -> SchemaRegistrySettings:
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                msg = "schema_registry url must be an absolute http(s) URL"
                raise ValueError(msg)
            if parts.username or parts.password:
                msg = "schema_registry url must carry no credentials"
                raise ValueError(msg)
        if (self.username is None) != (self.password is None):
            msg = "schema_registry username and password must be set together"
            raise ValueError(msg)
        return self


class FlowSettings(_Part):
    """How ``lifeline flow start`` runs the dataflows.

    With ``recovery`` on (the default) each flow snapshots its state and
    input offsets to ``state/recovery/<flow>`` every ``snapshot_interval``
    seconds and resumes from the last snapshot after any stop, kill -9
    included; off, a restarted flow reads its topics from the beginning.
    """

    recovery: bool = True
    snapshot_interval: int = Field(default=5, ge=1, le=3600)


# Each flow's metrics endpoint is ``metrics.port`` plus its offset here.
FLOW_METRICS_OFFSETS: dict[str, int] = {"skeleton": 0, "golden": 1, "deliveries": 2}


class MetricsSettings(_Part):
    """The Prometheus endpoint every dataflow process serves.

    Flow ``skeleton`` serves on ``port``, ``golden`` on ``port + 1`` and
    ``deliveries`` on ``port + 2`` (:data:`FLOW_METRICS_OFFSETS`), so the
    flows never collide on one host; ``port`` 0 switches every endpoint off.
    """

    host: str = LOOPBACK
    port: int = Field(default=19100, ge=0, le=65500)
    # How often the golden flow reads PostgreSQL's replication-slot lag into
    # its metrics (it needs the postgres settings); 0 never.
    slot_lag_interval: float = Field(default=30.0, ge=0)

    def port_for(self, flow: str) -> int | None:
        """The flow's metrics port; None when off or the flow has no offset."""
        offset = FLOW_METRICS_OFFSETS.get(flow)
        if self.port == 0 or offset is None:
            return None
        return self.port + offset

    def url_for(self, flow: str) -> str | None:
        """The flow's ``/metrics`` URL on this host, or None when it serves none."""
        port = self.port_for(flow)
        host = LOOPBACK if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return None if port is None else f"http://{host}:{port}/metrics"


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
    s3: S3Settings = S3Settings()
    flows: FlowSettings = FlowSettings()
    metrics: MetricsSettings = MetricsSettings()
    schema_registry: SchemaRegistrySettings = SchemaRegistrySettings()
    windows: WindowSettings = WindowSettings()
    # Level of the key=value logs of the flows and the CLI's -v.
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @cached_property
    def state_path(self) -> Path:
        """Absolute state directory, created on first use."""
        path = self.state_dir.resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
