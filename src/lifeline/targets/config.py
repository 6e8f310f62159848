"""The targets configuration: webhook targets and onboarding sagas.

Loaded from YAML (``config/targets.yaml``; ``config/targets.example.yaml``
is the annotated template). Credentials never appear in the file: it names
the environment variables that hold them. Durations are seconds. A model is
frozen; see docs/targets.md for what every setting means at run time.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lifeline import config_file
from lifeline.targets.errors import TargetConfigError
from lifeline.targets.mapping import PayloadMapping, strip_placeholders

DEAD_LETTER_TOPIC = "lifeline.targets.dead-letter"
EXCEPTION_TOPIC = "lifeline.onboarding.exceptions"

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Seconds = Annotated[float, Field(gt=0, le=86400)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BearerAuth(_Frozen):
    """``Authorization: Bearer <token>``, the token from ``token_env``."""

    type: Literal["bearer"]
    token_env: EnvName


class BasicAuth(_Frozen):
    """HTTP basic authentication, both parts from the environment."""

    type: Literal["basic"]
    username_env: EnvName
    password_env: EnvName


Auth = Annotated[BearerAuth | BasicAuth, Field(discriminator="type")]


class RetryPolicy(_Frozen):
    """How often and how long one delivery is tried.

    Attempt n (from 1) that fails retryably waits ``min(max_delay, base_delay
    * 2**(n-1))``, of which a random fraction up to ``jitter`` is taken
    away, or the server's Retry-After capped at ``retry_after_cap``. After
    ``max_attempts`` attempts, or ``deadline`` seconds after the delivery
    was queued (waiting for an open breaker included), it is dead-lettered.
    """

    max_attempts: int = Field(default=5, ge=1, le=100)
    base_delay: Seconds = 0.5
    max_delay: Seconds = 30.0
    jitter: float = Field(default=0.5, ge=0.0, le=1.0)
    retry_after_cap: Seconds = 120.0
    deadline: Seconds = 900.0

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryPolicy:
        if self.max_delay < self.base_delay:
            msg = "max_delay must be at least base_delay"
            raise ValueError(msg)
        return self


class BreakerPolicy(_Frozen):
    """The circuit breaker of one endpoint.

    It opens after ``failure_threshold`` failures in a row, stays open
    ``open_seconds``, then lets ``half_open_probes`` trial requests through:
    all of them succeeding closes it, one failing opens it again.
    """

    failure_threshold: int = Field(default=5, ge=1)
    open_seconds: Seconds = 30.0
    half_open_probes: int = Field(default=1, ge=1, le=64)


class Limits(_Frozen):
    """Concurrency, rate and backlog of one target.

    ``max_in_flight`` requests at once (one per worker thread); at most
    ``rate_per_second`` requests started per second (unlimited when unset);
    at most ``max_queue`` deliveries waiting, beyond which new ones are
    dead-lettered with reason ``overflow`` instead of blocking the caller.
    """

    max_in_flight: int = Field(default=4, ge=1, le=64)
    rate_per_second: float | None = Field(default=None, gt=0)
    max_queue: int = Field(default=10_000, ge=1)


class Endpoint(_Frozen):
    """An HTTP endpoint Lifeline calls, with its credentials and policies.

    ``url`` may hold ``{dotted.path}`` placeholders (see
    :mod:`lifeline.targets.mapping`). A 409 Conflict is a success when the
    response echoes the request's Idempotency-Key header, or always when
    ``conflict_is_success`` is set (for targets that answer 409 only to a
    repeated key).
    """

    url: str
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    payload: PayloadMapping | None = None
    auth: Auth | None = None
    hmac_secret_env: EnvName
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout: Seconds = 3.0
    timeout: Seconds = 10.0
    conflict_is_success: bool = False
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()

    @model_validator(mode="after")
    def _valid_url_and_mapping(self) -> Endpoint:
        check_url(self.url)
        check_mapping(self.payload)
        return self


class Target(Endpoint):
    """A webhook target: receives every event whose type is in ``events``."""

    name: Name
    events: tuple[str, ...] = Field(min_length=1)
    limits: Limits = Limits()


class Compensation(_Frozen):
    """The call that undoes a step, e.g. DELETE on the account it created.

    Its URL and payload see the same context as the step, including the
    step's own response under ``steps.<name>.response``.
    """

    url: str
    method: Literal["DELETE", "POST", "PUT", "PATCH"] = "DELETE"
    payload: PayloadMapping | None = None

    @model_validator(mode="after")
    def _valid_url_and_mapping(self) -> Compensation:
        check_url(self.url)
        check_mapping(self.payload)
        return self


class Step(Endpoint):
    """One step of a saga; ``compensation`` unset means it cannot be undone."""

    name: Name
    compensation: Compensation | None = None


class Saga(_Frozen):
    """A multi-step process (e.g. onboarding) run once per matching event."""

    name: Name
    events: tuple[str, ...] = Field(min_length=1)
    steps: tuple[Step, ...] = Field(min_length=1)
    limits: Limits = Limits()

    @model_validator(mode="after")
    def _unique_steps(self) -> Saga:
        _unique([step.name for step in self.steps], f"saga {self.name} step")
        return self


class TargetsConfig(_Frozen):
    """Every target and saga; names are unique across both."""

    targets: tuple[Target, ...] = ()
    sagas: tuple[Saga, ...] = ()
    dead_letter_topic: str = Field(default=DEAD_LETTER_TOPIC, min_length=1)
    exception_topic: str = Field(default=EXCEPTION_TOPIC, min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> TargetsConfig:
        names = [t.name for t in self.targets] + [s.name for s in self.sagas]
        _unique(names, "target or saga name")
        return self

    def target(self, name: str) -> Target:
        """The target called ``name``; TargetConfigError listing the known ones."""
        for target in self.targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in self.targets) or "none"
        msg = f"no target named {name!r} in the configuration (known: {known})"
        raise TargetConfigError(msg)


def check_url(url: str) -> None:
    """Raise ValueError unless ``url`` is an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = "url must be an absolute http:// or https:// URL"
        raise ValueError(msg)
    if "{" in parts.netloc or parts.username or parts.password:
        msg = "url host must be literal and carry no credentials"
        raise ValueError(msg)
    rest = strip_placeholders(url)
    if "{" in rest or "}" in rest:
        msg = "url has a brace that is not a {dotted.path} placeholder"
        raise ValueError(msg)


def check_mapping(mapping: PayloadMapping | None) -> None:
    """Raise ValueError when one output field is a parent of another."""
    fields = sorted(mapping or {})
    for parent, child in itertools.pairwise(fields):
        if child.startswith(parent + "."):
            msg = f"payload fields {parent!r} and {child!r} overlap"
            raise ValueError(msg)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            msg = f"duplicate {what} {name!r}"
            raise ValueError(msg)
        seen.add(name)


def load_targets(path: Path) -> TargetsConfig:
    """Read and validate a targets YAML file.

    Raises TargetConfigError naming the file and, for each problem, the
    field's location (e.g. ``targets.0.retry.max_attempts``).
    """
    raw = config_file.read_mapping(path, "targets config", error=TargetConfigError)
    return parse_targets(raw, source=str(path))


def parse_targets(raw: Any, source: str = "<config>") -> TargetsConfig:
    """Validate an already-parsed configuration; see :func:`load_targets`."""
    mapping = config_file.check_mapping(
        raw, "targets config", source, error=TargetConfigError
    )
    return config_file.validate(
        TargetsConfig, mapping, "targets config", source, error=TargetConfigError
    )
