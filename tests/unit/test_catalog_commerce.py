"""The ERP template captures subscriptions and sends transaction metadata."""

from __future__ import annotations

from pathlib import Path

from lifeline.capture.catalog import captured_tables, transaction_topics
from lifeline.capture.templates import ConnectorTemplate, load_templates
from lifeline.samples.schema import ERP_TABLES
from lifeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_sample_erp_table_is_captured() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    erp = {
        table.table
        for table in captured_tables(settings, load_templates(ROOT / "connectors"))
        if table.system == settings.topics.erp_prefix
    }
    assert erp == set(ERP_TABLES)


def test_transaction_topics_are_those_of_connectors_sending_metadata() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    shipped = load_templates(ROOT / "connectors")
    assert transaction_topics(settings, shipped) == ["erp.transaction"]
    custom = ConnectorTemplate(
        "custom",
        {
            "topic.prefix": "crm",
            "provide.transaction.metadata": "TRUE",
            "topic.transaction": "tx",
        },
        ROOT / "custom.json",
    )
    off = ConnectorTemplate("off", {"topic.prefix": "billing"}, ROOT / "off.json")
    assert transaction_topics(settings, [custom, off]) == ["crm.tx"]
