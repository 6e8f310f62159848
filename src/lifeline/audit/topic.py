"""The audit topic: created explicitly, append-only, never deleted by age.

The topic is keyed by golden id; compaction would keep only each record's
last entry and destroy its lineage, and time-based deletion would drop the
oldest, most often asked-about history. Hence ``cleanup.policy=delete`` with
``retention.ms=-1``: nothing is removed until an operator decides to (see
``docs/golden-record.md`` for retention advice).
"""

from __future__ import annotations

from typing import Final

from lifeline.settings import Settings
from lifeline.stack.broker import create_topics

AUDIT_TOPIC_CONFIG: Final = {"cleanup.policy": "delete", "retention.ms": "-1"}
"""Topic configuration the audit topic is created with."""


def create_audit_topic(settings: Settings) -> None:
    """Create ``settings.topics.audit`` if missing (an existing one is kept)."""
    create_topics(
        settings,
        [settings.topics.audit],
        partitions=settings.topics.partitions,
        config=AUDIT_TOPIC_CONFIG,
    )
