"""What a preflight checks: tables, publication, slot - from the connector templates.

By default the scope comes from the template in ``connectors/`` whose
``connector.class`` matches the database kind, rendered with
:mod:`lifeline.capture.templates`; command-line options override it. Only the
keys the checks need are rendered, so a template whose password placeholder
cannot be resolved here still gives its scope.

Include lists are Debezium's: comma-separated regular expressions matched,
case-insensitively, against the whole ``namespace.table`` name (namespace =
schema on PostgreSQL, database on MySQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lifeline.capture.templates import ConnectorTemplate, load_templates, render
from lifeline.errors import FatalError
from lifeline.preflight.report import Check, Fix, FixMode, passed, warned
from lifeline.settings import Settings

POSTGRES_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
MYSQL_CLASSES = frozenset(
    {
        "io.debezium.connector.mysql.MySqlConnector",
        "io.debezium.connector.mariadb.MariaDbConnector",
    }
)
_SCOPE_KEYS = (
    "table.include.list",
    "schema.include.list",
    "database.include.list",
    "publication.name",
    "publication.autocreate.mode",
    "slot.name",
    "plugin.name",
    "heartbeat.interval.ms",
    "heartbeat.action.query",
    "database.server.id",
    "signal.data.collection",
)
_WRITES = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE)\s+([\w."]+)', re.IGNORECASE)
# Debezium's defaults when a template leaves a key out.
_DEFAULTS = {
    "publication.name": "dbz_publication",
    "publication.autocreate.mode": "all_tables",
    "slot.name": "debezium",
    "plugin.name": "decoderbufs",
    "heartbeat.interval.ms": "0",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """The connector-side facts a preflight checks the database against."""

    connector: str | None  # the template's name, None without a template
    table_patterns: tuple[str, ...]
    namespace_patterns: tuple[str, ...]
    publication: str = _DEFAULTS["publication.name"]
    publication_autocreate: str = _DEFAULTS["publication.autocreate.mode"]
    slot: str = _DEFAULTS["slot.name"]
    plugin: str = _DEFAULTS["plugin.name"]
    heartbeat_ms: int = 0
    heartbeat_query: bool = False
    connector_server_id: int | None = None
    signal_table: str | None = None  # signal.data.collection, namespace.table
    heartbeat_table: str | None = None  # the table heartbeat.action.query writes


def postgres_scope(
    settings: Settings,
    connector: str | None = None,
    *,
    tables: str | None = None,
    publication: str | None = None,
    slot: str | None = None,
) -> Scope:
    """The scope of the PostgreSQL template, overridden by the given options."""
    name, config = _template_config(settings, connector, {POSTGRES_CLASS})
    if tables is not None:
        config["table.include.list"] = tables
    if publication is not None:
        config["publication.name"] = publication
    if slot is not None:
        config["slot.name"] = slot
    return _scope(name, config, "schema.include.list")


def mysql_scope(
    settings: Settings,
    connector: str | None = None,
    *,
    databases: str | None = None,
    tables: str | None = None,
) -> Scope:
    """The scope of the MySQL/MariaDB template, overridden by the given options."""
    name, config = _template_config(settings, connector, MYSQL_CLASSES)
    if databases is not None:
        config["database.include.list"] = databases
    if tables is not None:
        config["table.include.list"] = tables
    return _scope(name, config, "database.include.list")


def select_tables(
    available: Iterable[tuple[str, str]], scope: Scope
) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(namespace, table)`` pairs the scope captures, and unmatched patterns.

    As in Debezium, a table is captured when its namespace matches a
    namespace pattern (if there are any) and ``namespace.table`` matches a
    table pattern (if there are any); with neither, every table is.
    """
    tables = sorted(set(available))
    unmatched: list[str] = []
    if scope.namespace_patterns:
        tables, missing = _match(tables, scope.namespace_patterns, _namespace)
        unmatched += missing
    if scope.table_patterns:
        tables, missing = _match(tables, scope.table_patterns, _qualified)
        unmatched += missing
    return tables, unmatched


def _namespace(namespace: str, _table: str) -> str:
    return namespace


def _qualified(namespace: str, table: str) -> str:
    return f"{namespace}.{table}"


def _match(
    tables: Sequence[tuple[str, str]],
    patterns: Sequence[str],
    key: Callable[[str, str], str],
) -> tuple[list[tuple[str, str]], list[str]]:
    compiled = {p: re.compile(p, re.IGNORECASE) for p in patterns}
    hits = {p: [t for t in tables if c.fullmatch(key(*t))] for p, c in compiled.items()}
    selected = sorted({t for found in hits.values() for t in found})
    return selected, [p for p, found in hits.items() if not found]


def _template_config(
    settings: Settings, connector: str | None, classes: set[str] | frozenset[str]
) -> tuple[str | None, dict[str, str]]:
    """The chosen template's name and rendered scope keys (None, {} if none)."""
    templates = [
        t for t in load_templates() if t.config.get("connector.class") in classes
    ]
    if connector is not None:
        templates = [t for t in templates if t.name == connector]
        if not templates:
            msg = f"no connector template named {connector} for this database kind"
            raise FatalError(msg)
    if not templates:
        return None, {}
    if len(templates) > 1:
        names = ", ".join(t.name for t in templates)
        msg = f"several templates fit ({names}); choose one with --connector"
        raise FatalError(msg)
    template = templates[0]
    subset = {k: v for k, v in template.config.items() if k in _SCOPE_KEYS}
    rendered = render(ConnectorTemplate(template.name, subset, template.path), settings)
    return template.name, rendered


def _scope(name: str | None, config: dict[str, str], namespace_key: str) -> Scope:
    def get(key: str) -> str:
        return config.get(key) or _DEFAULTS.get(key, "")

    server_id = config.get("database.server.id", "")
    return Scope(
        connector=name,
        table_patterns=_patterns(config.get("table.include.list", "")),
        namespace_patterns=_patterns(config.get(namespace_key, "")),
        publication=get("publication.name"),
        publication_autocreate=get("publication.autocreate.mode"),
        slot=get("slot.name"),
        plugin=get("plugin.name"),
        heartbeat_ms=_int(get("heartbeat.interval.ms")),
        heartbeat_query=bool(config.get("heartbeat.action.query")),
        connector_server_id=int(server_id) if server_id.isdigit() else None,
        signal_table=config.get("signal.data.collection", "").strip() or None,
        heartbeat_table=_written_table(config.get("heartbeat.action.query", "")),
    )


def _written_table(query: str) -> str | None:
    """The ``namespace.table`` an ``INSERT INTO`` or ``UPDATE`` query writes, if any."""
    match = _WRITES.search(query)
    if match is None or "." not in match.group(1):
        return None
    return match.group(1).replace('"', "")


def _patterns(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def heartbeat_check(
    scope: Scope, quiet_effect: str, *, action_query_hint: bool = False
) -> list[Check]:
    """Whether the template's connector sends heartbeats (none without a template).

    ``quiet_effect`` says what happens to the database without them;
    ``action_query_hint`` mentions ``heartbeat.action.query`` when it is unset.
    """
    if scope.connector is None:
        return []
    if scope.heartbeat_ms <= 0:
        note = f"set heartbeat.interval.ms (e.g. 10000) in {scope.connector}"
        fix = Fix((), FixMode.MANUAL, note)
        return [warned("heartbeat", f"off: {quiet_effect}", fix)]
    finding = f"every {scope.heartbeat_ms} ms"
    if action_query_hint and not scope.heartbeat_query:
        finding += "; no heartbeat.action.query"
    return [passed("heartbeat", finding)]
