"""Deterministic event ids: a replay of the same changes yields the same ids.

An event id is a UUID version 5 in Lifeline's own namespace over

* the event type (the Avro record name, e.g. ``CustomerUpdated``),
* the golden id,
* a qualifier (empty unless one change yields several events of one type for
  one golden id, e.g. a split's new golden id),
* the set of the lineage's ``(system, table, row id, position)``, sorted.

Each part is length-prefixed, so no choice of values makes two different
inputs collide by concatenation. The commit times are left out: a position
already names one change. Consumers deduplicate on the event id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Final, Protocol

EVENT_ID_NAMESPACE: Final = uuid.UUID("6f1c3a52-9d0e-4b7a-8e21-0c5d4f3b2a19")
"""Lifeline's UUIDv5 namespace for event ids; changing it changes every id."""


class SourceRef(Protocol):
    """What an id needs of a lineage entry."""

    @property
    def system(self) -> str: ...  # noqa: D102

    @property
    def table(self) -> str: ...  # noqa: D102

    @property
    def row_id(self) -> str: ...  # noqa: D102

    @property
    def position(self) -> str: ...  # noqa: D102


def _frame(part: str) -> str:
    return f"{len(part)}:{part}"


def derive_event_id(
    event_type: str,
    golden_id: str,
    lineage: Iterable[SourceRef],
    qualifier: str = "",
) -> uuid.UUID:
    """The id of an event; the lineage's order and duplicates do not matter."""
    sources = sorted(
        {
            _frame(ref.system) + _frame(ref.table) + _frame(ref.row_id)
            + _frame(ref.position)
            for ref in lineage
        }
    )  # fmt: skip
    name = _frame(event_type) + _frame(golden_id) + _frame(qualifier)
    return uuid.uuid5(EVENT_ID_NAMESPACE, name + "".join(sources))
