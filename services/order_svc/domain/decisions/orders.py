"""The order's lifecycle decisions: place from an accepted quote (numbered), cancel (wholly, or the
unshipped remainder), record a shipment. Its billing (invoices, credit notes, payments seen) is
decided in `billing`.

Each takes the current order (None when there is none) and values, and returns the outcome or a
`Refusal`; nothing is read from the clock or the outside: time and the year's number counter are
passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from uuid import UUID

from contracts.money import DocumentTotals, LineAmounts, MoneyError, price_line, sum_totals
from services.order_svc.domain.decisions.outcomes import Cancelled, Confirmed, Fulfilled, Refusal
from services.order_svc.domain.model import (
    ACCEPTED,
    CANCEL,
    RECORD_FULFILMENT,
    AcceptedQuote,
    Completeness,
    Numbering,
    Order,
    OrderCounter,
    OrderLine,
    OrderState,
    order_id_for,
)


def confirm_order(
    accepted: AcceptedQuote,
    *,
    deal_id: str,
    existing: Order | None,
    counter: OrderCounter,
    numbering: Numbering,
    now: datetime,
) -> Confirmed | Refusal:
    """`place_order` under the next number of `counter`'s year.

    The counter advances only with a confirmed order (`Confirmed.counter`): a refused quote takes
    no number, so the year's sequence has no gaps.
    """
    advanced = counter.advance()
    decision = place_order(
        accepted,
        deal_id=deal_id,
        existing=existing,
        number=numbering.number(advanced.year, advanced.last),
        now=now,
    )
    if isinstance(decision, Refusal):
        return decision
    return replace(decision, counter=advanced)


def place_order(
    accepted: AcceptedQuote,
    *,
    deal_id: str,
    existing: Order | None,
    number: str,
    now: datetime,
) -> Confirmed | Refusal:
    """Create the order of an accepted quote and submit it at once, prices locked from the quote.

    The quote's amounts are not trusted: every line is priced again by the one money rule and the
    totals summed again; any difference to the cent refuses the quote instead of booking an order
    whose total differs from what the customer accepted.
    """
    quote_id = str(accepted.quote.quote_id)
    if deal_id != accepted.customer.lead_id:
        return Refusal(
            ACCEPTED,
            "deal_mismatch",
            f"deal {deal_id} is not the quote's lead {accepted.customer.lead_id}",
            quote_id,
        )
    if existing is not None:
        return Refusal(
            ACCEPTED,
            "order_exists",
            f"quote {quote_id} already has order {existing.order_number}",
            quote_id,
        )
    numbers = [line.line_no for line in accepted.lines]
    if len(set(numbers)) != len(numbers):
        return Refusal(ACCEPTED, "invalid_line", f"line numbers repeat: {numbers}", quote_id)
    try:
        repriced = tuple(_reprice(line, accepted.currency) for line in accepted.lines)
        totals = sum_totals((line.amounts for line in repriced), accepted.currency)
    except MoneyError as error:
        return Refusal(ACCEPTED, "invalid_line", str(error), quote_id)
    differences = [
        *(
            diff
            for claimed, line in zip(accepted.lines, repriced, strict=True)
            for diff in _differences(f"line {line.line_no} ", claimed.amounts, line.amounts)
        ),
        *_differences("", accepted.totals, totals),
    ]
    if differences:
        return Refusal(ACCEPTED, "totals_mismatch", "; ".join(differences), quote_id)
    order = Order(
        order_id=order_id_for(accepted.quote.quote_id),
        order_number=number,
        deal_id=deal_id,
        quote=accepted.quote,
        customer=accepted.customer,
        price_list_id=accepted.price_list_id,
        currency=accepted.currency,
        lines=repriced,
        totals=totals,
        payment_terms=accepted.payment_terms,
        customer_po=accepted.customer_po,
        state=OrderState.SUBMITTED,
        confirmed_at=now,
        updated_at=now,
        billing=accepted.billing,
        customer_details=accepted.customer_details,
        requested_delivery_date=accepted.requested_delivery_date,
        shipping_method=accepted.shipping_method,
        base=accepted.base,
    )
    return Confirmed(order)


def cancellation_reason(reason: str | None, requested_by: str) -> str:
    """The reason a cancellation records and publishes: the command's, else who asked for it."""
    return reason or f"canceled by {requested_by}"


def cancel(
    order: Order | None, *, order_id: UUID, deal_id: str, reason: str, now: datetime
) -> Cancelled | Refusal:
    """Cancel the order: wholly when nothing shipped; partly shipped, its unshipped remainder,
    which closes it. Both end Canceled (D365 closes a partly shipped order by cancelling the
    rest); what shipped stays recorded (`shipped`, completeness partial), so the event and the
    row tell the two apart. Once every line shipped in full there is nothing left to cancel.

    Billing does not hold a cancellation back, paid or not: invoice_svc credits what was
    invoiced and will not ship, and money received for it becomes a refund due, whichever of
    the cancellation and the payment it hears of first.
    """
    subject = str(order_id)
    if order is None:
        return Refusal(CANCEL, "unknown_order", f"no order {order_id}", subject)
    if order.deal_id != deal_id:
        return _deal_mismatch(CANCEL, order, deal_id)
    if order.state is OrderState.CANCELED:
        return Refusal(CANCEL, "already_cancelled", "the order is canceled already", subject)
    if order.completeness is Completeness.COMPLETE:
        return Refusal(
            CANCEL,
            "already_fulfilled",
            f"every line shipped in full (shipments {sorted(order.shipment_refs)})",
            subject,
        )
    cancelled = replace(order, state=OrderState.CANCELED, cancel_reason=reason, updated_at=now)
    return Cancelled(cancelled, reason)


def record_fulfilment(
    order: Order | None,
    *,
    order_id: UUID,
    deal_id: str,
    shipment_ref: str,
    shipped: Iterable[tuple[int, Decimal]],
    now: datetime,
) -> Fulfilled | Refusal:
    """Add one shipment to the cumulative quantities shipped per line.

    An invoiced order still takes shipments (billing ahead of delivery is common) and stays
    Invoiced (`Order.settled`): invoicing is the later, billing-side state and fulfilment is
    kept alongside it.
    """
    subject = str(order_id)
    if order is None:
        return Refusal(RECORD_FULFILMENT, "unknown_order", f"no order {order_id}", subject)
    if order.deal_id != deal_id:
        return _deal_mismatch(RECORD_FULFILMENT, order, deal_id)
    if order.state is OrderState.CANCELED:
        return Refusal(RECORD_FULFILMENT, "order_cancelled", "the order is canceled", subject)
    if order.erp_refusal is not None:
        # The ERP did not book it: nothing of it can have left. Resubmit or cancel it first.
        return Refusal(
            RECORD_FULFILMENT,
            "refused_by_erp",
            f"the ERP refused the order ({order.erp_refusal.reason_code}): resubmit it first",
            subject,
        )
    # Before the quantity checks: a resent shipment must read as a duplicate, not as over-shipment.
    if shipment_ref in order.shipment_refs:
        return Refusal(
            RECORD_FULFILMENT,
            "duplicate_shipment",
            f"shipment {shipment_ref} was recorded already",
            subject,
        )
    this_shipment: dict[int, Decimal] = {}
    for line_no, quantity in shipped:
        if quantity <= 0:
            # The contract already says so; the domain keeps the rule for callers other than it.
            return Refusal(
                RECORD_FULFILMENT,
                "invalid_quantity",
                f"line {line_no}: quantity shipped must be positive, got {quantity}",
                subject,
            )
        this_shipment[line_no] = this_shipment.get(line_no, Decimal(0)) + quantity
    ordered = {line.line_no: line.quantity for line in order.lines}
    unknown = sorted(set(this_shipment) - set(ordered))
    if unknown:
        return Refusal(
            RECORD_FULFILMENT, "unknown_line", f"the order has no line(s) {unknown}", subject
        )
    totals = {n: order.shipped_of(n) + q for n, q in this_shipment.items()}
    over = [
        f"line {n}: {totals[n]} of {ordered[n]}" for n in sorted(totals) if totals[n] > ordered[n]
    ]
    if not this_shipment:
        return Refusal(RECORD_FULFILMENT, "invalid_quantity", "the shipment has no lines", subject)
    if over:
        return Refusal(
            RECORD_FULFILMENT,
            "over_shipment",
            "more than ordered would be shipped: " + "; ".join(over),
            subject,
        )
    shipped_now = MappingProxyType({**order.shipped, **totals})
    fulfilled = replace(
        order,
        shipped=shipped_now,
        shipment_refs=order.shipment_refs | {shipment_ref},
        updated_at=now,
    ).settled()
    # Something positive was shipped (checked above), so the order is at least partial.
    return Fulfilled(fulfilled, shipment_ref, fulfilled.completeness or Completeness.PARTIAL)


def _reprice(line: OrderLine, currency: str) -> OrderLine:
    amounts = price_line(
        line.quantity, line.unit_price, line.amounts.discount, line.tax_rate, currency
    )
    return replace(line, amounts=amounts)


_LINE_FIELDS: Sequence[tuple[str, str]] = (
    ("base", "base_amount"),
    ("discount", "discount_amount"),
    ("net", "net_amount"),
    ("tax", "tax_amount"),
    ("total", "total_amount"),
)


def _differences(
    where: str, claimed: LineAmounts | DocumentTotals, computed: LineAmounts | DocumentTotals
) -> list[str]:
    """`line 2 tax_amount: quote 36.10, recomputed 36.11` for every amount that differs."""
    names = (
        _LINE_FIELDS
        if isinstance(claimed, LineAmounts)
        else [(f.name, f.name) for f in fields(DocumentTotals) if f.name != "currency"]
    )
    found = []
    for attr, label in names:
        quoted, recomputed = getattr(claimed, attr), getattr(computed, attr)
        if quoted != recomputed:
            found.append(f"{where}{label}: quote {quoted}, recomputed {recomputed}")
    return found


def _deal_mismatch(command: str, order: Order, deal_id: str) -> Refusal:
    return Refusal(
        command,
        "deal_mismatch",
        f"order {order.order_id} belongs to deal {order.deal_id}, not {deal_id}",
        str(order.order_id),
    )
