"""Orders, lines, invoices and payments for generated ERP customers.

Amounts add up: an order's total is the sum of its lines (quantity x unit
price, rounded half-up to cents), an order's invoice is for its total, a
received payment pays its invoice in full. Prospects have no orders; closed
customers only shipped or cancelled ones.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from lifeline.samples import _fakes as fake
from lifeline.samples._vocabulary import FAILURE_REASONS, PAYMENT_METHODS, PRODUCTS
from lifeline.samples.records import (
    ErpCustomer,
    ErpInvoice,
    ErpOrder,
    ErpOrderLine,
    ErpPayment,
)

CENT = Decimal("0.01")
_MILLI = Decimal("0.001")
_ORDER_COUNTS = (("0", 30), ("1", 30), ("2", 20), ("3", 12), ("4", 8))
_ORDER_STATUS = (("shipped", 55), ("confirmed", 20), ("open", 15), ("cancelled", 10))
_CLOSED_ORDER_STATUS = (("shipped", 80), ("cancelled", 20))
_INVOICE_STATUS = {
    "shipped": (("paid", 65), ("posted", 25), ("void", 5), ("draft", 5)),
    "confirmed": (("draft", 50), ("posted", 50)),
    "cancelled": (("void", 20), ("", 80)),
    "open": (("", 100),),
}
_HOURS = (Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("4"), Decimal("7.5"))


class OrderBook:
    """Collects the order-to-cash rows of every customer it is given."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.orders: list[ErpOrder] = []
        self.lines: list[ErpOrderLine] = []
        self.invoices: list[ErpInvoice] = []
        self.payments: list[ErpPayment] = []

    def add_history(self, customer: ErpCustomer, currency: str, days: float) -> None:
        """Orders (and their follow-ups) within ``days`` of the customer's creation."""
        if customer.status == "prospect":
            return
        for _ in range(int(fake.weighted(self.rng, _ORDER_COUNTS))):
            self._order(customer, currency, days)
        if customer.status == "active" and self.rng.random() < 0.1:
            moment = customer.created_at + fake.span(self.rng, days)
            amount = Decimal(self.rng.randint(5000, 50000)) / 100
            self._invoice(customer.id, None, currency, amount, moment, "posted")

    def _order(self, customer: ErpCustomer, currency: str, days: float) -> None:
        rng = self.rng
        choices = _CLOSED_ORDER_STATUS if customer.status == "closed" else _ORDER_STATUS
        status = fake.weighted(rng, choices)
        order_id = len(self.orders) + 1
        lines = self._lines(order_id)
        total = sum((_amount(line) for line in lines), Decimal(0)).quantize(CENT)
        ordered_at = customer.created_at + fake.span(rng, days * 0.9)
        self.orders.append(
            ErpOrder(
                id=order_id,
                order_no=f"SO-{100000 + order_id}",
                customer_id=customer.id,
                status=status,
                currency=currency,
                total=total,
                ordered_at=ordered_at,
            )
        )
        self.lines.extend(lines)
        invoice_status = fake.weighted(rng, _INVOICE_STATUS[status])
        if invoice_status:
            self._invoice(
                customer.id, order_id, currency, total, ordered_at, invoice_status
            )

    def _lines(self, order_id: int) -> list[ErpOrderLine]:
        rng = self.rng
        products = rng.sample(PRODUCTS, rng.randint(1, 5))
        lines = []
        for line_no, product in enumerate(products, start=1):
            quantity = (
                rng.choice(_HOURS) if product.hourly else Decimal(rng.randint(1, 20))
            )
            price = product.unit_price
            if rng.random() < 0.2:
                discount = Decimal(100 - rng.randint(5, 15)) / 100
                price = (price * discount).quantize(CENT, ROUND_HALF_UP)
            lines.append(
                ErpOrderLine(
                    id=len(self.lines) + line_no,
                    order_id=order_id,
                    line_no=line_no,
                    sku=product.sku,
                    description=product.description,
                    quantity=quantity.quantize(_MILLI),
                    unit_price=price,
                )
            )
        return lines

    def _invoice(
        self,
        customer_id: int,
        order_id: int | None,
        currency: str,
        amount: Decimal,
        moment: datetime,
        status: str,
    ) -> None:
        rng = self.rng
        invoice_id = len(self.invoices) + 1
        issued = (moment + timedelta(days=rng.randint(0, 5))).date()
        invoice = ErpInvoice(
            id=invoice_id,
            invoice_no=f"INV-{issued.year}-{invoice_id:06d}",
            customer_id=customer_id,
            order_id=order_id,
            status=status,
            currency=currency,
            amount=amount.quantize(CENT),
            issued_on=issued,
            due_on=issued + timedelta(days=rng.choice((14, 30))),
            posted_at=None if status == "draft" else self._office_hours(issued),
        )
        self.invoices.append(invoice)
        self._payments(invoice)

    def _payments(self, invoice: ErpInvoice) -> None:
        """Failed attempts, the payment, maybe a refund, as the status implies."""
        if invoice.posted_at is None or invoice.status == "void":
            return
        rng = self.rng
        moment = invoice.posted_at
        failures = 0
        if invoice.status == "paid" and rng.random() < 0.12:
            failures = rng.randint(1, 2)
        elif invoice.status == "posted" and rng.random() < 0.25:
            failures = 1
        for _ in range(failures):
            moment += fake.span(rng, 7)
            self._payment(invoice, invoice.amount, "failed", moment)
        if invoice.status != "paid":
            return
        moment += fake.span(rng, (invoice.due_on - invoice.issued_on).days + 10)
        self._payment(invoice, invoice.amount, "received", moment)
        if rng.random() < 0.04:
            share = rng.choice((Decimal(1), Decimal("0.5"), Decimal("0.1")))
            refund = (invoice.amount * share).quantize(CENT, ROUND_HALF_UP)
            self._payment(invoice, refund, "refunded", moment + fake.span(rng, 30))

    def _payment(
        self, invoice: ErpInvoice, amount: Decimal, status: str, moment: datetime
    ) -> None:
        rng = self.rng
        failed = status == "failed"
        method = rng.choice(PAYMENT_METHODS[:2] if failed else PAYMENT_METHODS)
        self.payments.append(
            ErpPayment(
                id=len(self.payments) + 1,
                invoice_id=invoice.id,
                amount=amount,
                status=status,
                method=method,
                failure_reason=rng.choice(FAILURE_REASONS) if failed else None,
                paid_at=moment,
            )
        )

    def _office_hours(self, day: date) -> datetime:
        clock = time(self.rng.randint(8, 17), self.rng.randint(0, 59), tzinfo=UTC)
        return datetime.combine(day, clock) + timedelta(
            milliseconds=self.rng.randint(0, 59_999)
        )


def _amount(line: ErpOrderLine) -> Decimal:
    return (line.quantity * line.unit_price).quantize(CENT, ROUND_HALF_UP)
