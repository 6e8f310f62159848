"""Incremental snapshots on request: which connector captures a table, the signal.

Debezium re-reads a captured table in chunks, while streaming goes on, when
an ``execute-snapshot`` row appears in its signal table; the rows arrive on
the table's topic as reads (``op=r``) marked ``snapshot=incremental``. Those
reads carry a source position at or after every change already streamed,
and Lifeline applies a row only when its position is newer, so a
re-snapshot brings back what is missing and never moves a row backwards.

:func:`resolve_table` finds the connector whose ``table.include.list``
captures a table; :func:`snapshot_signal` is the row to insert.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import orjson

from lifeline.capture.templates import ConnectorTemplate, render
from lifeline.errors import FatalError
from lifeline.settings import Settings

Kind = Literal["postgres", "mysql"]
SIGNAL_TYPE = "execute-snapshot"
_KINDS: dict[str, Kind] = {
    "io.debezium.connector.postgresql.PostgresConnector": "postgres",
    "io.debezium.connector.mysql.MySqlConnector": "mysql",
    "io.debezium.connector.mariadb.MariaDbConnector": "mysql",
}
_PLAIN = re.compile(r"^[\w$]+\.[\w$]+$")


@dataclass(frozen=True, slots=True)
class SnapshotTarget:
    """A captured table, the connector that captures it and its signal table."""

    connector: str
    kind: Kind
    system: str  # the connector's topic.prefix
    namespace: str  # schema (PostgreSQL) or database (MySQL)
    table: str
    signal_table: str  # namespace.table, from signal.data.collection
    publication: str | None  # PostgreSQL: the publication the slot reads
    user: str  # the account the connector logs in as (writes watermarks)

    @property
    def data_collection(self) -> str:
        """The table as Debezium names it in ``data-collections``."""
        return f"{self.namespace}.{self.table}"

    @property
    def topic(self) -> str:
        """The topic the table's change events (and snapshot reads) land on."""
        return f"{self.system}.{self.namespace}.{self.table}"


@dataclass(frozen=True, slots=True)
class _Connector:
    name: str
    kind: Kind
    system: str
    entries: tuple[str, ...]  # table.include.list entries
    signal_table: str | None
    publication: str | None
    user: str


def resolve_table(
    name: str,
    settings: Settings,
    templates: Iterable[ConnectorTemplate],
    connector: str | None = None,
) -> SnapshotTarget:
    """The connector capturing ``name`` (``table``, ``ns.table``, ``prefix.ns.table``).

    Raises FatalError when no connector (or not ``connector``) captures it,
    when several do and ``name`` does not say which, when ``name`` is a
    signal table, or when the connector has no ``signal.data.collection``.
    """
    connectors = [c for t in templates if (c := _connector(t, settings)) is not None]
    if connector is not None:
        chosen = [c for c in connectors if c.name == connector]
        if not chosen:
            known = ", ".join(c.name for c in connectors) or "none"
            msg = f"no connector template named {connector} (templates: {known})"
            raise FatalError(msg)
    else:
        chosen = connectors
    matches = [m for c in chosen for m in _matches(c, name)]
    if not matches:
        raise FatalError(_not_captured(name, connectors, connector))
    if len({(m.connector, m.data_collection) for m in matches}) > 1:
        found = ", ".join(f"{m.connector}: {m.data_collection}" for m in matches)
        msg = (
            f"table {name} is captured more than once ({found}); "
            "name it as namespace.table or choose --connector"
        )
        raise FatalError(msg)
    return matches[0]


def _connector(template: ConnectorTemplate, settings: Settings) -> _Connector | None:
    kind = _KINDS.get(template.config.get("connector.class", ""))
    if kind is None:
        return None
    keys = (
        "topic.prefix",
        "table.include.list",
        "signal.data.collection",
        "database.user",
    )
    wanted = {k: v for k, v in template.config.items() if k in keys}
    if kind == "postgres":
        wanted["publication.name"] = template.config.get(
            "publication.name", "dbz_publication"
        )
    config = render(ConnectorTemplate(template.name, wanted, template.path), settings)
    entries = tuple(
        e.strip() for e in config.get("table.include.list", "").split(",") if e.strip()
    )
    return _Connector(
        name=template.name,
        kind=kind,
        system=config.get("topic.prefix", ""),
        entries=entries,
        signal_table=config.get("signal.data.collection", "").strip() or None,
        publication=config.get("publication.name"),
        user=config.get("database.user", ""),
    )


def _matches(connector: _Connector, name: str) -> list[SnapshotTarget]:
    """The tables of ``connector`` that ``name`` means (at most one per entry)."""
    parts = name.strip().split(".")
    if len(parts) == 3:
        if parts[0].lower() != connector.system.lower():
            return []
        parts = parts[1:]
    found = []
    for entry in connector.entries:
        namespace, table = _table_named(entry, parts)
        if table is None:
            continue
        problem = _signal_problem(connector)
        if problem is not None:
            raise FatalError(problem)
        assert connector.signal_table is not None  # _signal_problem said so
        found.append(
            SnapshotTarget(
                connector=connector.name,
                kind=connector.kind,
                system=connector.system,
                namespace=namespace,
                table=table,
                signal_table=connector.signal_table,
                publication=connector.publication,
                user=connector.user,
            )
        )
    return found


def _signal_problem(connector: _Connector) -> str | None:
    """Why the connector cannot take signals from its signal table, or None."""
    if connector.signal_table is None:
        return (
            f"connector {connector.name} has no signal.data.collection: add one "
            "to its template and apply it (docs/streaming-engineers.md)"
        )
    namespace = connector.signal_table.rpartition(".")[0]
    if not namespace:
        return (
            f"connector {connector.name}: signal.data.collection "
            f"{connector.signal_table} is not namespace.table"
        )
    captured = {e.split(".")[0].lower() for e in connector.entries if _PLAIN.match(e)}
    if connector.kind == "mysql" and namespace.lower() not in captured:
        # The binlog reader knows the tables of the captured databases only.
        return (
            f"connector {connector.name}: the signal table {connector.signal_table} "
            f"must be in a captured database ({', '.join(sorted(captured))})"
        )
    return None


def _table_named(entry: str, parts: list[str]) -> tuple[str, str | None]:
    """``(namespace, table)`` of ``entry`` when ``parts`` name it, else ``("", None)``.

    A plain ``namespace.table`` entry matches its table name alone or both
    parts, case-insensitively as Debezium does; any other entry is a regular
    expression and matches a full ``namespace.table`` only.
    """
    if _PLAIN.match(entry):
        namespace, table = entry.split(".")
        wanted = [p.lower() for p in parts]
        if wanted in ([table.lower()], [namespace.lower(), table.lower()]):
            return namespace, table
        return "", None
    if len(parts) == 2 and re.fullmatch(entry, ".".join(parts), re.IGNORECASE):
        return parts[0], parts[1]
    return "", None


def _not_captured(name: str, connectors: list[_Connector], chosen: str | None) -> str:
    if any(_is_signal_table(c, name) for c in connectors):
        return f"{name} is a signal table; Debezium does not snapshot it"
    elsewhere = [c.name for c in connectors if _matches_quietly(c, name)]
    if chosen is not None and elsewhere:
        return (
            f"table {name} is not captured by {chosen}, but by "
            f"{', '.join(elsewhere)}: drop --connector or choose that one"
        )
    captured = "; ".join(
        f"{c.name}: {', '.join(c.entries) or 'none'}"
        for c in connectors
        if chosen is None or c.name == chosen
    )
    return (
        f"table {name} is not captured ({captured}); add it to the connector's "
        "table.include.list and apply it before snapshotting it"
    )


def _is_signal_table(connector: _Connector, name: str) -> bool:
    if connector.signal_table is None:
        return False
    parts = [p.lower() for p in name.strip().split(".")]
    signal = [p.lower() for p in connector.signal_table.split(".")]
    return parts in (signal[-1:], signal, [connector.system.lower(), *signal])


def _matches_quietly(connector: _Connector, name: str) -> bool:
    try:
        return bool(_matches(connector, name))
    except FatalError:
        return True


@dataclass(frozen=True, slots=True)
class Signal:
    """One row of a signal table: ``id``, ``type`` and JSON ``data``."""

    id: str
    type: str
    data: str


def snapshot_signal(
    target: SnapshotTarget, condition: str | None = None, signal_id: str | None = None
) -> Signal:
    """The ``execute-snapshot`` row asking for an incremental snapshot of ``target``.

    ``condition`` is an SQL predicate limiting the rows read (Debezium's
    ``additional-conditions`` filter), e.g. ``updated_at > '2024-01-01'``.
    """
    data: dict[str, object] = {
        "type": "incremental",
        "data-collections": [target.data_collection],
    }
    if condition is not None:
        if not condition.strip():
            msg = "--additional-condition is empty"
            raise FatalError(msg)
        data["additional-conditions"] = [
            {"data-collection": target.data_collection, "filter": condition.strip()}
        ]
    return Signal(
        id=signal_id or str(uuid.uuid4()),
        type=SIGNAL_TYPE,
        data=orjson.dumps(data).decode(),
    )
