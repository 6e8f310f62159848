"""The canonical lifecycle events: pydantic models mirroring ``schemas/avro``.

Every event carries a deterministic ``event_id`` (see :mod:`.ids`), the
``golden_id`` of the customer it concerns, ``occurred_at`` (UTC, millisecond
precision: finer parts are dropped when encoding) and its ``lineage``: the
source changes it was derived from. The Avro schema of each event is the
contract; ``tests/unit/events`` keep these models and the schemas in step.

Money is :class:`~decimal.Decimal` with at most 14 integer and 4 fractional
digits, Avro ``decimal`` (bytes, precision 18, scale 4): scale 4 covers every
ISO 4217 minor unit, so a currency never forces an incompatible schema change.

Build events in hot paths with :meth:`LifecycleEvent.build`, which skips
validation; validate at the edges (decoding does) and in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lifeline.events.ids import derive_event_id
from lifeline.join.latest import RowChange

NAMESPACE = "io.lifeline.events"
"""The Avro namespace of every event and shared record."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


_set = object.__setattr__
_LAYOUTS: dict[type[BaseModel], tuple[tuple[str, bool], ...]] = {}


def _layout(cls: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """``(field name, required)`` in schema order, checked once per model.

    :meth:`_Frozen.trusted` fills an omitted field with None: every
    optional field must default to None, and no model may need its
    ``model_post_init`` or private attributes.
    """
    layout = _LAYOUTS.get(cls)
    if layout is None:
        fields = cls.__pydantic_fields__
        if cls.__pydantic_post_init__ or cls.__private_attributes__:
            msg = f"{cls.__name__}: trusted() cannot build it"
            raise TypeError(msg)
        for name, info in fields.items():
            if not info.is_required() and (
                info.default is not None or info.default_factory is not None
            ):
                msg = f"{cls.__name__}.{name}: trusted() needs a None default"
                raise TypeError(msg)
        layout = tuple((name, info.is_required()) for name, info in fields.items())
        _LAYOUTS[cls] = layout
    return layout


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A model of ``values`` without validation, like ``model_construct``.

        The same model (fields in schema order, omitted ones at their
        defaults, ``model_fields_set`` the fields given, extra names
        ignored) for a fraction of the cost: hot paths build several per
        change. The caller guarantees the types.
        """
        data: dict[str, Any] = {}
        given: set[str] = set()
        for name, required in _layout(cls):
            if name in values:
                data[name] = values[name]
                given.add(name)
            elif not required:
                data[name] = None
        model = cls.__new__(cls)
        _set(model, "__dict__", data)
        _set(model, "__pydantic_fields_set__", given)
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


class LifecycleStage(StrEnum):
    """Where a customer is in its lifecycle (see :mod:`lifeline.golden.lifecycle`)."""

    PROSPECT = "prospect"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CHURNED = "churned"


class LifecycleFact(StrEnum):
    """A business fact that may move a customer to another lifecycle stage."""

    ORDER_PLACED = "order_placed"
    INVOICE_PAID = "invoice_paid"
    PAYMENT_FAILED = "payment_failed"
    ARREARS_SETTLED = "arrears_settled"
    CONTRACTS_ENDED = "contracts_ended"
    ACCOUNT_CLOSED = "account_closed"
    RENEWED = "renewed"


class Lineage(_Frozen):
    """One source change an event was derived from.

    ``position`` is :meth:`SourcePosition.encode` (byte order = log order
    within one system); ``committed_at`` the commit time in the source.
    """

    system: str
    table: str
    row_id: str
    position: str
    committed_at: AwareDatetime

    @classmethod
    def from_change(cls, change: RowChange) -> Lineage:
        """The lineage entry of a row change (built without validation)."""
        return cls.trusted(
            system=change.system,
            table=change.table,
            row_id=change.row_id,
            position=change.position.encode(),
            committed_at=from_millis(change.ts_ms),
        )


def from_millis(ts_ms: int) -> datetime:
    """An aware UTC datetime from milliseconds since the epoch, exactly."""
    return _EPOCH + timedelta(milliseconds=ts_ms)


class Organisation(_Frozen):
    """An organisation one of the customer's identity users belongs to.

    ``role`` is that user's role in it. ``name``, ``domain``, ``tax_id`` and
    ``country`` are None until the organisation's own row has been seen.
    """

    org_id: str
    user_id: str
    role: str | None = None
    name: str | None = None
    domain: str | None = None
    tax_id: str | None = None
    country: str | None = None


class CustomerProfile(_Frozen):
    """The golden record's fields; None where no source has a value.

    Which system each field comes from is ``config/ownership.yaml``.
    ``organisations`` (by org id, then user id) is None when the
    customer's identity users belong to none, and in events of schema
    version 1.
    """

    legal_name: str | None = None
    tax_id: str | None = None
    login_email: str | None = None
    billing_email: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    phone: str | None = None
    billing_street: str | None = None
    billing_city: str | None = None
    billing_postal_code: str | None = None
    billing_country: str | None = None
    credit_limit: Money | None = None
    billing_status: str | None = None
    erp_status: str | None = None
    organisations: tuple[Organisation, ...] | None = None

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """:meth:`_Frozen.trusted`; organisations may come as mappings.

        The golden record holds each organisation as a plain mapping (the
        form the cache stores); the profile holds :class:`Organisation`.
        """
        entries = values.get("organisations")
        if entries:
            values["organisations"] = tuple(
                entry
                if isinstance(entry, Organisation)
                else Organisation.trusted(**entry)
                for entry in entries
            )
        return super().trusted(**values)


GOLDEN_FIELDS: tuple[str, ...] = tuple(CustomerProfile.model_fields)
"""The names of the golden record's fields, in schema order."""


class LifecycleEvent(_Frozen):
    """Fields every event has; subclasses are the concrete events."""

    EVENT_TYPE: ClassVar[str] = ""

    event_id: UUID
    golden_id: str
    occurred_at: AwareDatetime
    lineage: tuple[Lineage, ...]

    @classmethod
    def build(
        cls,
        *,
        golden_id: str,
        occurred_at: datetime,
        lineage: Iterable[Lineage],
        qualifier: str = "",
        **fields: Any,
    ) -> Self:
        """A new event with its derived id, without validation (hot paths).

        ``qualifier`` tells apart several events of this type for one golden
        id derived from the same changes (a split's new golden id). The
        caller guarantees the types; :meth:`model_validate` checks them.
        """
        lineage = tuple(lineage)
        event_id = derive_event_id(cls.EVENT_TYPE, golden_id, lineage, qualifier)
        return cls.trusted(
            event_id=event_id,
            golden_id=golden_id,
            occurred_at=occurred_at,
            lineage=lineage,
            **fields,
        )


class CustomerCreated(LifecycleEvent):
    """A golden record was born; ``source_refs`` are its ``system:id`` members."""

    EVENT_TYPE: ClassVar[str] = "CustomerCreated"

    profile: CustomerProfile
    source_refs: tuple[str, ...]


class CustomerUpdated(LifecycleEvent):
    """Golden fields changed; ``profile`` is the whole record afterwards."""

    EVENT_TYPE: ClassVar[str] = "CustomerUpdated"

    changed_fields: tuple[str, ...]
    profile: CustomerProfile


class CustomerMerged(LifecycleEvent):
    """``absorbed_ids`` became part of ``golden_id`` (the survivor)."""

    EVENT_TYPE: ClassVar[str] = "CustomerMerged"

    absorbed_ids: tuple[str, ...]
    moved_refs: tuple[str, ...]
    reason: str


class CustomerSplit(LifecycleEvent):
    """``moved_refs`` left ``golden_id`` and now form ``new_golden_id``."""

    EVENT_TYPE: ClassVar[str] = "CustomerSplit"

    new_golden_id: str
    moved_refs: tuple[str, ...]
    reason: str


class LifecycleStageChanged(LifecycleEvent):
    """The customer moved from ``from_stage`` (None: new) to ``to_stage``."""

    EVENT_TYPE: ClassVar[str] = "LifecycleStageChanged"

    from_stage: LifecycleStage | None
    to_stage: LifecycleStage
    fact: LifecycleFact


class OrderLine(_Frozen):
    """One line of an order as it was placed."""

    line_no: int
    sku: str
    description: str | None = None
    quantity: Money
    unit_price: Money


class OrderPlaced(LifecycleEvent):
    """The customer placed an order: its header and lines, coalesced.

    ``line_count`` and ``lines`` are the lines that arrived with the order
    (one transaction, or one window of source time); None in events of
    schema version 1, which had no lines.
    """

    EVENT_TYPE: ClassVar[str] = "OrderPlaced"

    order_number: str
    currency: str
    total: Money
    line_count: int | None = None
    lines: tuple[OrderLine, ...] | None = None


class InvoicePosted(LifecycleEvent):
    """An invoice was posted to the customer."""

    EVENT_TYPE: ClassVar[str] = "InvoicePosted"

    invoice_number: str
    order_number: str | None = None
    currency: str
    amount: Money
    issued_on: date
    due_on: date


class PaymentReceived(LifecycleEvent):
    """A payment against an invoice was received."""

    EVENT_TYPE: ClassVar[str] = "PaymentReceived"

    payment_id: str
    invoice_number: str
    currency: str
    amount: Money
    method: str


class PaymentFailed(LifecycleEvent):
    """A payment against an invoice failed."""

    EVENT_TYPE: ClassVar[str] = "PaymentFailed"

    payment_id: str
    invoice_number: str
    currency: str
    amount: Money
    method: str
    failure_reason: str | None = None


class EntitlementChange(StrEnum):
    """How an entitlement changed."""

    GRANTED = "granted"
    CHANGED = "changed"
    REVOKED = "revoked"


class EntitlementChanged(LifecycleEvent):
    """What the customer may use changed (a subscription, seat count, plan).

    ``change`` and ``contract_id`` (the subscription) are None in events of
    schema version 1.
    """

    EVENT_TYPE: ClassVar[str] = "EntitlementChanged"

    entitlement: str
    active: bool
    plan: str | None = None
    quantity: int | None = None
    valid_until: AwareDatetime | None = None
    change: EntitlementChange | None = None
    contract_id: str | None = None


class RenewalCompleted(LifecycleEvent):
    """A contract or subscription was renewed until ``term_end``."""

    EVENT_TYPE: ClassVar[str] = "RenewalCompleted"

    contract_id: str
    plan: str | None = None
    term_end: AwareDatetime | None = None


EVENT_MODELS: dict[str, type[LifecycleEvent]] = {
    model.EVENT_TYPE: model
    for model in (
        CustomerCreated,
        CustomerUpdated,
        CustomerMerged,
        CustomerSplit,
        LifecycleStageChanged,
        OrderPlaced,
        InvoicePosted,
        PaymentReceived,
        PaymentFailed,
        EntitlementChanged,
        RenewalCompleted,
    )
}
"""Every event model by its type, which is its Avro record name."""
