"""Golden record: source-of-truth rules and the lifecycle state machine.

:mod:`.ownership` decides which system's value each golden field takes
(``config/ownership.yaml``); :mod:`.lifecycle` derives the lifecycle stage
from business facts. See ``docs/golden-record.md``.
"""

from lifeline.golden.lifecycle import (
    INITIAL_STAGE,
    TRANSITIONS,
    Fact,
    Flag,
    Invalid,
    Stage,
    Step,
    replay,
    transition,
)
from lifeline.golden.ownership import (
    LOWER_PRIORITY,
    NOT_A_SOURCE,
    Applied,
    Conflict,
    FieldChange,
    FieldSources,
    OwnershipRules,
    Provenance,
    Sourced,
    combine,
    load_ownership,
)
from lifeline.golden.ownership_config import OwnershipConfig, load_ownership_config

__all__ = [
    "INITIAL_STAGE",
    "LOWER_PRIORITY",
    "NOT_A_SOURCE",
    "TRANSITIONS",
    "Applied",
    "Conflict",
    "Fact",
    "FieldChange",
    "FieldSources",
    "Flag",
    "Invalid",
    "OwnershipConfig",
    "OwnershipRules",
    "Provenance",
    "Sourced",
    "Stage",
    "Step",
    "combine",
    "load_ownership",
    "load_ownership_config",
    "replay",
    "transition",
]
