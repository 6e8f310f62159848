"""Events: the canonical lifecycle events, their ids, schemas and encoding.

Pydantic models (:mod:`.models`) mirror the Avro contracts in
``schemas/avro`` (:mod:`.registry`); :class:`EventCodec` writes them as Avro
single-object or Confluent frames and reads them back. See
``docs/golden-record.md``.
"""

from lifeline.events.avro import EventCodec
from lifeline.events.ids import EVENT_ID_NAMESPACE, derive_event_id
from lifeline.events.models import (
    EVENT_MODELS,
    GOLDEN_FIELDS,
    CustomerCreated,
    CustomerMerged,
    CustomerProfile,
    CustomerSplit,
    CustomerUpdated,
    EntitlementChanged,
    InvoicePosted,
    LifecycleEvent,
    LifecycleFact,
    LifecycleStage,
    LifecycleStageChanged,
    Lineage,
    OrderPlaced,
    PaymentFailed,
    PaymentReceived,
    RenewalCompleted,
    from_millis,
)
from lifeline.events.registry import SCHEMA_DIR, EventSchema, EventSchemas

__all__ = [
    "EVENT_ID_NAMESPACE",
    "EVENT_MODELS",
    "GOLDEN_FIELDS",
    "SCHEMA_DIR",
    "CustomerCreated",
    "CustomerMerged",
    "CustomerProfile",
    "CustomerSplit",
    "CustomerUpdated",
    "EntitlementChanged",
    "EventCodec",
    "EventSchema",
    "EventSchemas",
    "InvoicePosted",
    "LifecycleEvent",
    "LifecycleFact",
    "LifecycleStage",
    "LifecycleStageChanged",
    "Lineage",
    "OrderPlaced",
    "PaymentFailed",
    "PaymentReceived",
    "RenewalCompleted",
    "derive_event_id",
    "from_millis",
]
