"""What the dispatcher delivers: one lifecycle event, any mapping shape.

The canonical event models live elsewhere; a :class:`Delivery` accepts any
mapping with the keys ``event_id``, ``event_type``, ``golden_id``,
``payload`` and ``occurred_at``, so the targets never depend on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifeline.errors import RecordError

BAD_EVENT = "bad_event"
_STRING_KEYS = ("event_id", "event_type", "golden_id")


@dataclass(frozen=True)
class Delivery:
    """One event to deliver; ``event_id`` is the idempotency key everywhere.

    ``occurred_at`` is kept as given when it is a string, or converted to RFC
    3339 when it is a timezone-aware datetime.
    """

    event_id: str
    event_type: str
    golden_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: str = ""

    @classmethod
    def from_mapping(cls, event: EventLike) -> Delivery:
        """Read an event; raises RecordError(``bad_event``) naming the key."""
        if isinstance(event, Delivery):
            return event
        for key in _STRING_KEYS:
            value = event.get(key)
            if not isinstance(value, str) or not value:
                reason = f"event key {key!r}: expected a non-empty string"
                raise RecordError(BAD_EVENT, reason)
        payload = event.get("payload", {})
        if not isinstance(payload, Mapping):
            reason = "event key 'payload': expected a mapping"
            raise RecordError(BAD_EVENT, reason)
        return cls(
            event_id=event["event_id"],
            event_type=event["event_type"],
            golden_id=event["golden_id"],
            payload=dict(payload),
            occurred_at=_timestamp(event.get("occurred_at")),
        )

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (also the mapping context)."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "golden_id": self.golden_id,
            "payload": dict(self.payload),
            "occurred_at": self.occurred_at,
        }


EventLike = Mapping[str, Any] | Delivery


def _timestamp(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            reason = "event key 'occurred_at': datetime without a timezone"
            raise RecordError(BAD_EVENT, reason)
        return value.isoformat()
    if isinstance(value, str):
        return value
    reason = "event key 'occurred_at': expected an RFC 3339 string or datetime"
    raise RecordError(BAD_EVENT, reason)
