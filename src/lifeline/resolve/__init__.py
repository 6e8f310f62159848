"""Identity resolution: which source records are one customer.

Records from every system are keyed (:class:`SourceRecord`), compared within
blocks by deterministic rules and a fuzzy score (:mod:`.rules`), and kept in
clusters whose stable golden ids survive additions, merges and splits
(:class:`Resolver`). See ``docs/identity-resolution.md``.
"""

from lifeline.resolve.config import (
    DEFAULT_CONFIG,
    FuzzyWeights,
    ResolutionConfig,
    load_config,
)
from lifeline.resolve.decisions import (
    ClusterEvent,
    ResolutionBatch,
    ResolutionDecision,
)
from lifeline.resolve.record import (
    RecordChange,
    RecordDelete,
    RecordKeys,
    SourceRecord,
)
from lifeline.resolve.resolver import Resolver, resolve_step

__all__ = [
    "DEFAULT_CONFIG",
    "ClusterEvent",
    "FuzzyWeights",
    "RecordChange",
    "RecordDelete",
    "RecordKeys",
    "ResolutionBatch",
    "ResolutionConfig",
    "ResolutionDecision",
    "Resolver",
    "SourceRecord",
    "load_config",
    "resolve_step",
]
