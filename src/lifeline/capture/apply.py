"""``lifeline connectors apply``: topics first, then each connector config."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lifeline.audit.topic import create_audit_topic
from lifeline.capture.catalog import captured_tables, transaction_topics
from lifeline.capture.connect_client import ConnectClient, ConnectorState
from lifeline.capture.templates import load_templates, placeholder_context, render
from lifeline.settings import Settings
from lifeline.stack.broker import create_topics

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one connector did."""

    name: str
    created: bool
    changed: bool
    state: ConnectorState


def apply_connectors(settings: Settings, timeout: float = 120.0) -> list[Applied]:
    """Create the CDC topics, then PUT every template and wait for RUNNING.

    Topics are created up front with the configured partition count, so the
    dataflow finds every captured table's topic even before its first row.
    A config equal to the one the cluster holds is not re-sent.
    """
    templates = load_templates()
    topics = [table.topic for table in captured_tables(settings, templates)]
    create_topics(
        settings,
        [
            *topics,
            *transaction_topics(settings, templates),
            *_lifeline_topics(settings),
        ],
        partitions=settings.topics.partitions,
    )
    create_audit_topic(settings)
    if settings.connect.managed:  # the worker runs here: make its history folder
        history = placeholder_context(settings)["connect.schema_history_dir"]
        Path(history).mkdir(parents=True, exist_ok=True)
    client = ConnectClient(settings.connect.url)
    applied = []
    for template in templates:
        config = render(template, settings)
        current = client.config(template.name)
        changed = current is None or _differs(current, config)
        created = False
        if changed:
            created = client.put_config(template.name, config)
            logger.info("connector applied name=%s created=%s", template.name, created)
        state = client.wait_running(template.name, timeout=timeout)
        applied.append(Applied(template.name, created, changed, state))
    return applied


def _lifeline_topics(settings: Settings) -> list[str]:
    """Topics the flows write (dead letters, events, deliveries), notifications."""
    from lifeline.targets.config import DEAD_LETTER_TOPIC, EXCEPTION_TOPIC

    return [
        settings.topics.dead_letter,
        settings.topics.lifecycle,
        settings.topics.late,
        settings.topics.notifications,
        DEAD_LETTER_TOPIC,
        EXCEPTION_TOPIC,
    ]


def _differs(current: dict[str, str], wanted: dict[str, str]) -> bool:
    # The worker adds "name" to the stored config; compare what we send.
    return any(current.get(key) != value for key, value in wanted.items()) or any(
        key not in wanted and key != "name" for key in current
    )
