"""The captured tables and their Kafka topics, derived from the templates.

The connector templates are the one place that says which tables are
captured; the dataflow and the topic set-up read the same list from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifeline.capture.templates import ConnectorTemplate, load_templates, render
from lifeline.settings import Settings


@dataclass(frozen=True, slots=True)
class CapturedTable:
    """One table a connector captures, and the topic its changes land on."""

    system: str  # the connector's topic.prefix, e.g. "erp"
    namespace: str  # database (MySQL) or schema (PostgreSQL)
    table: str

    @property
    def topic(self) -> str:
        """Debezium's default topic name: ``prefix.namespace.table``."""
        return f"{self.system}.{self.namespace}.{self.table}"


def captured_tables(
    settings: Settings, templates: list[ConnectorTemplate] | None = None
) -> list[CapturedTable]:
    """Every table in a template's ``table.include.list``."""
    tables = []
    for template in templates if templates is not None else load_templates():
        config = render(template, settings)
        system = config["topic.prefix"]
        for entry in config.get("table.include.list", "").split(","):
            namespace, _, table = entry.strip().rpartition(".")
            if table:
                tables.append(CapturedTable(system, namespace, table))
    return tables


def cdc_topics(settings: Settings) -> list[str]:
    """The topics the dataflow consumes."""
    return [table.topic for table in captured_tables(settings)]


def transaction_topics(
    settings: Settings, templates: list[ConnectorTemplate] | None = None
) -> list[str]:
    """Debezium's transaction-metadata topics of the connectors that send it.

    With ``provide.transaction.metadata`` on, a connector writes BEGIN and
    END records to ``<topic.prefix>.<topic.transaction>``; the flows read
    the transaction ids each change carries, not this topic, but it must
    exist where the broker does not create topics on first use.
    """
    topics = []
    for template in templates if templates is not None else load_templates():
        config = render(template, settings)
        if config.get("provide.transaction.metadata", "false").lower() == "true":
            suffix = config.get("topic.transaction", "transaction")
            topics.append(f"{config['topic.prefix']}.{suffix}")
    return topics
