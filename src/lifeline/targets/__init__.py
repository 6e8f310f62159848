"""SaaS targets: webhook delivery, dead letters, replay and sagas.

:class:`Dispatcher` delivers lifecycle events to the configured webhook
targets and runs the onboarding sagas; :func:`replay` re-delivers a
target's dead letters. docs/targets.md states the semantics.
"""

from lifeline.targets.config import TargetsConfig, load_targets, parse_targets
from lifeline.targets.delivery import Dispatcher
from lifeline.targets.model import Delivery
from lifeline.targets.records import MemoryRecords, RecordReader, RecordWriter
from lifeline.targets.replay import ReplayReport, SqliteLedger, replay
from lifeline.targets.stats import TargetStats
from lifeline.targets.worker import DeliveryResult

__all__ = [
    "Delivery",
    "DeliveryResult",
    "Dispatcher",
    "MemoryRecords",
    "RecordReader",
    "RecordWriter",
    "ReplayReport",
    "SqliteLedger",
    "TargetStats",
    "TargetsConfig",
    "load_targets",
    "parse_targets",
    "replay",
]
