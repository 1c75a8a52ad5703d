"""Payments read before what they name: a remittance (a payment and the order or invoices it
names) held until invoice_svc knows them, then decided like any payment.

The accounting system sends its payment on invoice.commands, right behind the ERP invoice it
settles; but the order, or the ERP's number for it (order.acknowledged), travels on other
topics and may be read later. A payment refused meanwhile (`unknown_order`) would be lost for
good: the ERP's books say paid, salesflow's receivables say open. So such a payment is held
under the names it gave (salesflow's order number, the ERP's number, the ERP invoice ids), and
decided in the transaction that makes them known. What it names and never arrives keeps it
held (visible in `salesflow report`; never refused on a guess).

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from services.invoice_svc.domain.model import (
    Invoice,
    InvoiceKind,
    InvoicingMode,
    Order,
    Payment,
)


@dataclass(frozen=True, slots=True)
class Remittance:
    """A payment as its command gave it (RecordPayment): the money, and what it pays."""

    payment: Payment
    deal_id: str
    command_event_id: UUID
    received_at: datetime
    # Names an order (salesflow's number or the ERP's) ...
    order_number: str | None = None
    erp_order_number: str | None = None
    # ... or its invoices: (salesflow invoice id, ERP invoice id, amount) per invoice.
    allocations: tuple[tuple[UUID | None, str | None, Decimal], ...] = ()

    @property
    def names_an_order(self) -> bool:
        return self.order_number is not None or self.erp_order_number is not None

    @property
    def order_ref(self) -> str:
        return str(self.order_number or self.erp_order_number)

    @property
    def external_invoice_ids(self) -> frozenset[str]:
        return frozenset(ext for _, ext, _ in self.allocations if ext is not None)

    def names(self, order: Order) -> bool:
        """Whether the payment names `order`, by its number or the ERP's."""
        return (self.order_number is not None and self.order_number == order.order_number) or (
            self.erp_order_number is not None and self.erp_order_number == order.erp_order_number
        )


@dataclass(frozen=True, slots=True)
class PaymentHeld:
    """A payment whose order or invoice is not known here yet: kept until it is."""

    remittance: Remittance
    waiting_for: str


def order_awaited(
    order: Order | None,
    invoices: Iterable[Invoice],
    *,
    order_ref: str,
    deal_id: str,
    mode: InvoicingMode,
) -> str | None:
    """What a payment naming an order waits for, or None when it can be decided now.

    An order not known by the name given waits for its confirmation (salesflow's number) or
    its acknowledgement (the ERP's number). When the accounting system bills (external), a
    known order without any invoice yet waits for the ERP invoice (held itself, behind the
    acknowledgement, or not read yet); a cancelled one will get none and is decided now. In
    native mode the order's invoices are made here, with the order, so none means none. An
    order of another deal is decided now (refused `deal_mismatch`).
    """
    if order is None:
        return f"order {order_ref}"
    if mode is not InvoicingMode.EXTERNAL or order.cancelled or order.deal_id != deal_id:
        return None
    standard = [
        i for i in invoices if i.order_id == order.order_id and i.kind is InvoiceKind.STANDARD
    ]
    return None if standard else f"an invoice of order {order.order_number}"


def invoices_awaited(
    found: Iterable[tuple[Invoice | None, str | None]], held: frozenset[str]
) -> str | None:
    """What a payment naming invoices waits for: the ERP invoices it names that are held
    (their order not known yet), or None. An id neither posted nor held is decided now
    (refused `unknown_invoice`): the ERP registers its invoice before it pays it, on the same
    partition, so nothing is on its way."""
    waiting = sorted(
        external
        for invoice, external in found
        if invoice is None and external is not None and external in held
    )
    return f"ERP invoices {waiting}" if waiting else None
