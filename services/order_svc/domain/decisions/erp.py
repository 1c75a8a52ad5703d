"""The ERP's answers to a submitted order: booked under its own number (acknowledge), or not
(refuse); and a refused order sent again, corrected (resubmit).

Pure: standard library only. Each takes the current order (None when there is none) and values,
and returns the outcome, `Ignored` for an answer given already (the ERP retries under new event
ids, which the inbox cannot recognise), or a `Refusal`.

Acknowledged -> the order carries the ERP's number; a later shipment or invoice moves it on as
before (`Order.settled`). Refused -> RefusedByErp until it is resubmitted (back to Submitted), or
cancelled like any unshipped order; it takes no shipment meanwhile. An acknowledgement of a
refused order (the ERP booked it after all, fixed on its side) clears the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from services.order_svc.domain.decisions.outcomes import (
    Acknowledged,
    Ignored,
    Refusal,
    RefusedByErp,
    Resubmitted,
)
from services.order_svc.domain.model import ErpRefusal, Order, OrderState
from services.order_svc.domain.parties import Address, CustomerDetails

ACKNOWLEDGE = "order.acknowledge"
REFUSE = "order.refuse"
RESUBMIT = "order.resubmit"


@dataclass(frozen=True, slots=True)
class Corrections:
    """What a resubmission changes; None: unchanged."""

    ship_to: Address | None = None
    requested_delivery_date: date | None = None
    shipping_method: str | None = None
    customer_po: str | None = None


def acknowledge(
    order: Order | None,
    *,
    order_ref: str,
    deal_id: str,
    erp_order_number: str,
    holder: Order | None,
    now: datetime,
) -> Acknowledged | Ignored | Refusal:
    """Record the ERP's number for the order.

    The same number again changes nothing; another number is refused (`erp_number_differs`):
    the ERP has one order for ours, and invoices and payments find the order by it. So is a
    number another order carries already (`erp_number_in_use`; `holder`: the order found
    under that number). A cancelled order still records it (the ERP booked it before it heard
    of the cancellation, and its documents will name it) and stays Canceled.
    """
    found = _found(ACKNOWLEDGE, order, order_ref, deal_id)
    if isinstance(found, Refusal):
        return found
    order = found
    if order.erp_order_number == erp_order_number:
        return Ignored(
            "acknowledged_already", f"order {order.order_number} is ERP order {erp_order_number}"
        )
    subject = str(order.order_id)
    if order.erp_order_number is not None:
        return Refusal(
            ACKNOWLEDGE,
            "erp_number_differs",
            f"order {order.order_number} was acknowledged as ERP order "
            f"{order.erp_order_number}, not {erp_order_number}",
            subject,
        )
    if holder is not None and holder.order_id != order.order_id:
        return Refusal(
            ACKNOWLEDGE,
            "erp_number_in_use",
            f"ERP order {erp_order_number} is order {holder.order_number}",
            subject,
        )
    booked = replace(order, erp_order_number=erp_order_number, erp_refusal=None, updated_at=now)
    return Acknowledged(booked.settled())


def refuse(
    order: Order | None,
    *,
    order_ref: str,
    deal_id: str,
    refusal: ErpRefusal,
    now: datetime,
) -> RefusedByErp | Ignored | Refusal:
    """The ERP could not book the order: RefusedByErp, with its reason, until resubmitted.

    Refused (answered with order.rejected) for an order that cannot be in that position: a
    cancelled one, one the ERP acknowledged already, one that shipped, one invoiced already
    (`already_invoiced`: its customer holds an invoice, which a refusal would leave open; the
    ERP cancels the order instead, and the cancellation credits it). The same refusal again
    changes nothing; another one replaces it (the ERP looked again).
    """
    found = _found(REFUSE, order, order_ref, deal_id)
    if isinstance(found, Refusal):
        return found
    order = found
    subject = str(order.order_id)
    if order.state is OrderState.CANCELED:
        return Refusal(REFUSE, "already_cancelled", "the order is canceled already", subject)
    if order.erp_order_number is not None:
        return Refusal(
            REFUSE,
            "already_acknowledged",
            f"the ERP booked the order as {order.erp_order_number}",
            subject,
        )
    if order.completeness is not None:
        return Refusal(
            REFUSE,
            "already_shipped",
            f"shipments {sorted(order.shipment_refs)} left already",
            subject,
        )
    if order.erp_refusal == refusal:
        return Ignored("refused_already", f"order {order.order_number}: {refusal.reason_code}")
    # After the retry check: a refusal resent once an invoice arrived is still a no-op.
    if order.invoices:
        numbers = [invoice.invoice_number for invoice in order.invoices]
        return Refusal(
            REFUSE,
            "already_invoiced",
            f"invoices {numbers} were posted for the order: cancel it instead (order.cancel), "
            "which credits them",
            subject,
        )
    refused = replace(order, erp_refusal=refusal, updated_at=now).settled()
    return RefusedByErp(refused, refusal)


def resubmit(
    order: Order | None,
    *,
    order_id: UUID,
    deal_id: str,
    corrections: Corrections,
    now: datetime,
) -> Resubmitted | Refusal:
    """Send a refused order again with `corrections` applied: back to Submitted (or to what its
    billing makes it, `Order.settled`). Only a refused order (`not_refused`)."""
    found = _found(RESUBMIT, order, str(order_id), deal_id)
    if isinstance(found, Refusal):
        return found
    order = found
    if order.state is not OrderState.REFUSED_BY_ERP:
        return Refusal(
            RESUBMIT,
            "not_refused",
            f"the order is {order.state.value}: only an order the ERP refused is resubmitted",
            str(order.order_id),
        )
    details = order.customer_details
    if corrections.ship_to is not None:
        # An order made before orders carried customer details gets them from what it has.
        base = details or CustomerDetails(order.customer.account_id, order.customer.account_name)
        details = base.shipping_to(corrections.ship_to)
    corrected = replace(
        order,
        customer_details=details,
        requested_delivery_date=corrections.requested_delivery_date
        or order.requested_delivery_date,
        shipping_method=corrections.shipping_method or order.shipping_method,
        customer_po=corrections.customer_po or order.customer_po,
        erp_refusal=None,
        updated_at=now,
    )
    return Resubmitted(corrected.settled())


def _found(command: str, order: Order | None, order_ref: str, deal_id: str) -> Order | Refusal:
    if order is None:
        return Refusal(command, "unknown_order", f"no order {order_ref}", order_ref)
    if order.deal_id != deal_id:
        # Commands travel keyed by the deal: one for another deal would race that deal's events.
        return Refusal(
            command,
            "deal_mismatch",
            f"order {order.order_id} belongs to deal {order.deal_id}, not {deal_id}",
            str(order.order_id),
        )
    return order
