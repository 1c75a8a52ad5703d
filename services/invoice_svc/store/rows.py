"""How invoice_svc's domain values are written to and read from its rows: documents with their
lines as JSON, money as exact decimal strings (never floats)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Row

from contracts import money
from services.invoice_svc.domain import (
    AccountCredit,
    BillingPolicy,
    CreditNote,
    DownPayment,
    Entry,
    ExternalClaim,
    Invoice,
    InvoiceKind,
    InvoiceSource,
    InvoiceState,
    Line,
    LineBilling,
    LineCredit,
    Order,
    Payment,
    PaymentStatus,
    Refund,
)
from services.invoice_svc.store.parties import details_from_json, details_to_json
from services.invoice_svc.store.tables import TOTALS


def lines_to_json(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line.line_no,
            "sku": line.sku,
            "description": line.description,
            "write_in": line.write_in,
            "quantity": str(line.quantity),
            "unit": line.unit,
            "unit_price": str(line.unit_price),
            "discount_amount": str(line.discount_amount),
            "tax_rate": str(line.tax_rate),
            "base_amount": str(line.base_amount),
            "net_amount": str(line.net_amount),
            "tax_amount": str(line.tax_amount),
            "total_amount": str(line.total_amount),
        }
        for line in lines
    ]


def lines_from_json(data: Iterable[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(
        Line(
            line_no=int(d["line_no"]),
            sku=d.get("sku"),
            description=d["description"],
            write_in=bool(d["write_in"]),
            quantity=Decimal(d["quantity"]),
            unit=d["unit"],
            unit_price=Decimal(d["unit_price"]),
            discount_amount=Decimal(d["discount_amount"]),
            tax_rate=Decimal(d["tax_rate"]),
            base_amount=Decimal(d["base_amount"]),
            net_amount=Decimal(d["net_amount"]),
            tax_amount=Decimal(d["tax_amount"]),
            total_amount=Decimal(d["total_amount"]),
        )
        for d in data
    )


def _amounts_json(a: money.LineAmounts) -> dict[str, str]:
    return {k: str(getattr(a, k)) for k in ("base", "discount", "net", "tax", "total")}


def _amounts_of(d: Mapping[str, str], currency: str) -> money.LineAmounts:
    return money.LineAmounts(
        base=Decimal(d["base"]),
        discount=Decimal(d["discount"]),
        net=Decimal(d["net"]),
        tax=Decimal(d["tax"]),
        total=Decimal(d["total"]),
        currency=currency,
    )


def _rates_json(rates: Mapping[Decimal, tuple[Decimal, Decimal]]) -> dict[str, list[str]]:
    return {str(r): [str(n), str(t)] for r, (n, t) in rates.items()}


def _rates_of(d: Mapping[str, list[str]]) -> dict[Decimal, tuple[Decimal, Decimal]]:
    return {Decimal(r): (Decimal(n), Decimal(t)) for r, (n, t) in d.items()}


def _totals_row(totals: money.DocumentTotals) -> dict[str, Decimal]:
    return {name: getattr(totals, name) for name in TOTALS}


def _totals_of(row: Row[Any], currency: str) -> money.DocumentTotals:
    values = {name: Decimal(getattr(row, name)) for name in TOTALS}
    return money.DocumentTotals(**values, currency=currency)


def row_from_order(order: Order) -> dict[str, Any]:
    dp = order.down_payment
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "quote_id": order.quote_id,
        "deal_id": order.deal_id,
        "account_id": order.account_id,
        "account_name": order.account_name,
        "currency": order.currency,
        "lines": lines_to_json(order.lines),
        **_totals_row(order.totals),
        "payment_terms": order.payment_terms,
        "confirmed_at": order.confirmed_at,
        "state": "cancelled" if order.cancelled else "confirmed",
        "cancel_reason": order.cancel_reason,
        "billing": order.billing.value if order.billing else None,
        "down_payment_rate": order.down_payment_rate,
        "shipped": {str(n): str(q) for n, q in order.shipped.items()},
        "billed": {
            str(n): {
                "quantity": str(b.quantity),
                "credited_quantity": str(b.credited_quantity),
                **_amounts_json(b.amounts),
                "credited": None
                if b.credited_amounts is None
                else _amounts_json(b.credited_amounts),
            }
            for n, b in order.billed.items()
        },
        "down_payment": None
        if dp is None
        else {
            "invoice_id": str(dp.invoice_id),
            "invoice_number": dp.invoice_number,
            "billed": _rates_json(dp.billed),
            "used": _rates_json(dp.used),
        },
        "customer_details": details_to_json(order.customer_details),
        "customer_po": order.customer_po,
        "erp_order_number": order.erp_order_number,
        "base_currency": order.base_currency,
        "exchange_rate": order.exchange_rate,
        "rate_date": order.rate_date,
    }


def order_from_row(row: Row[Any]) -> Order:
    dp = row.down_payment
    return Order(
        order_id=row.order_id,
        order_number=row.order_number,
        quote_id=row.quote_id,
        deal_id=row.deal_id,
        account_id=row.account_id,
        account_name=row.account_name,
        currency=row.currency,
        lines=lines_from_json(row.lines),
        totals=_totals_of(row, row.currency),
        payment_terms=row.payment_terms,
        confirmed_at=row.confirmed_at,
        cancelled=row.state == "cancelled",
        cancel_reason=row.cancel_reason,
        billing=BillingPolicy(row.billing) if row.billing else None,
        down_payment_rate=Decimal(row.down_payment_rate)
        if row.down_payment_rate is not None
        else None,
        shipped={int(n): Decimal(q) for n, q in (row.shipped or {}).items()},
        billed={
            int(n): LineBilling(
                Decimal(b["quantity"]),
                _amounts_of(b, row.currency),
                Decimal(b["credited_quantity"]),
                None if b.get("credited") is None else _amounts_of(b["credited"], row.currency),
            )
            for n, b in (row.billed or {}).items()
        },
        down_payment=None
        if dp is None
        else DownPayment(
            UUID(dp["invoice_id"]),
            dp["invoice_number"],
            _rates_of(dp["billed"]),
            _rates_of(dp["used"]),
        ),
        customer_details=details_from_json(row.customer_details),
        customer_po=row.customer_po,
        erp_order_number=row.erp_order_number,
        base_currency=row.base_currency,
        exchange_rate=row.exchange_rate,
        rate_date=row.rate_date,
    )


def row_from_invoice(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.invoice_number,
        "order_id": invoice.order_id,
        "external_invoice_id": invoice.external_invoice_id,
        "deal_id": invoice.deal_id,
        "account_id": invoice.account_id,
        "account_name": invoice.account_name,
        "source": invoice.source.value,
        "kind": invoice.kind.value,
        "state": invoice.state.value,
        "payment_status": invoice.payment_status.value if invoice.payment_status else None,
        "currency": invoice.currency,
        "lines": lines_to_json(invoice.lines),
        **_totals_row(invoice.totals),
        "amount_paid": invoice.amount_paid,
        "amount_credited": invoice.amount_credited,
        "credit_applied": invoice.credit_applied,
        "moved_to_credit": invoice.moved_to_credit,
        "balance_due": invoice.balance_due,
        "credited_lines": {
            str(n): {"quantity": str(c.quantity), **_amounts_json(c.amounts)}
            for n, c in invoice.credited_lines.items()
        },
        "credited_rates": _rates_json(invoice.credited_rates),
        "deductions": [
            [str(d), n, str(r), str(net), str(t)] for d, n, r, net, t in invoice.deductions
        ],
        "payment_terms": invoice.payment_terms,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "cancel_reason": invoice.cancel_reason,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "overdue_on": invoice.overdue_on,
        "dunning_level": invoice.dunning_level,
    }


def invoice_from_row(row: Row[Any]) -> Invoice:
    return Invoice(
        invoice_id=row.invoice_id,
        invoice_number=row.invoice_number,
        order_id=row.order_id,
        deal_id=row.deal_id,
        account_id=row.account_id,
        account_name=row.account_name or "",
        source=InvoiceSource(row.source),
        external_invoice_id=row.external_invoice_id,
        currency=row.currency,
        lines=lines_from_json(row.lines),
        totals=_totals_of(row, row.currency),
        payment_terms=row.payment_terms,
        issue_date=row.issue_date,
        due_date=row.due_date,
        state=InvoiceState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        kind=InvoiceKind(row.kind),
        amount_paid=Decimal(row.amount_paid),
        amount_credited=Decimal(row.amount_credited),
        credit_applied=Decimal(row.credit_applied),
        moved_to_credit=Decimal(row.moved_to_credit),
        credited_lines={
            int(n): LineCredit(Decimal(c["quantity"]), _amounts_of(c, row.currency))
            for n, c in (row.credited_lines or {}).items()
        },
        credited_rates=_rates_of(row.credited_rates or {}),
        payment_status=PaymentStatus(row.payment_status) if row.payment_status else None,
        cancel_reason=row.cancel_reason,
        deductions=tuple(
            (UUID(d), n, Decimal(r), Decimal(net), Decimal(t))
            for d, n, r, net, t in (row.deductions or [])
        ),
        overdue_on=row.overdue_on,
        dunning_level=row.dunning_level,
    )


def row_from_note(note: CreditNote) -> dict[str, Any]:
    return {
        "credit_note_id": note.credit_note_id,
        "credit_note_number": note.credit_note_number,
        "invoice_id": note.invoice_id,
        "order_id": note.order_id,
        "deal_id": note.deal_id,
        "account_id": note.account_id,
        "source": note.source.value,
        "external_credit_note_id": note.external_credit_note_id,
        "credit_ref": note.credit_ref,
        "currency": note.currency,
        "lines": lines_to_json(note.lines),
        "order_lines": [[n, str(q)] for n, q in note.order_lines],
        **_totals_row(note.totals),
        "reason": note.reason,
        "issue_date": note.issue_date,
        "created_at": note.created_at,
    }


def note_from_row(row: Row[Any]) -> CreditNote:
    return CreditNote(
        credit_note_id=row.credit_note_id,
        credit_note_number=row.credit_note_number,
        invoice_id=row.invoice_id,
        order_id=row.order_id,
        deal_id=row.deal_id,
        account_id=row.account_id,
        source=InvoiceSource(row.source),
        external_credit_note_id=row.external_credit_note_id,
        credit_ref=row.credit_ref,
        currency=row.currency,
        lines=lines_from_json(row.lines),
        totals=_totals_of(row, row.currency),
        reason=row.reason,
        issue_date=row.issue_date,
        created_at=row.created_at,
        order_lines=tuple((int(n), Decimal(q)) for n, q in row.order_lines),
    )


def row_from_payment(invoice_id: UUID, payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "invoice_id": invoice_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "paid_at": payment.paid_at,
        "method": payment.method,
        "recorded_at": payment.recorded_at,
    }


def row_from_claim(claim: ExternalClaim) -> dict[str, Any]:
    return {
        "external_invoice_id": claim.external_invoice_id,
        "order_id": claim.order_id,
        "order_number": claim.order_number,
        "erp_order_number": claim.erp_order_number,
        "deal_id": claim.deal_id,
        "invoice_number": claim.invoice_number,
        "currency": claim.currency,
        **_totals_row(claim.totals),
        "issue_date": claim.issue_date,
        "due_date": claim.due_date,
        "command_event_id": claim.command_event_id,
        "received_at": claim.received_at,
        "alerted_at": claim.alerted_at,
        "lines": None
        if claim.lines is None
        else [
            [n, str(q), None if net is None else str(net), None if tax is None else str(tax)]
            for n, q, net, tax in claim.lines
        ],
    }


def claim_from_row(row: Row[Any]) -> ExternalClaim:
    return ExternalClaim(
        external_invoice_id=row.external_invoice_id,
        invoice_number=row.invoice_number,
        order_id=row.order_id,
        order_number=row.order_number,
        erp_order_number=row.erp_order_number,
        deal_id=row.deal_id,
        currency=row.currency,
        totals=_totals_of(row, row.currency),
        issue_date=row.issue_date,
        due_date=row.due_date,
        command_event_id=row.command_event_id,
        received_at=row.received_at,
        alerted_at=row.alerted_at,
        lines=None
        if row.lines is None
        else tuple(
            (
                int(n),
                Decimal(q),
                None if net is None else Decimal(net),
                None if tax is None else Decimal(tax),
            )
            for n, q, net, tax in row.lines
        ),
    )


def row_from_credit(credit: AccountCredit) -> dict[str, Any]:
    return {
        "account_id": credit.account_id,
        "currency": credit.currency,
        "account_name": credit.account_name,
        "balance": credit.balance,
    }


def credit_from_row(row: Row[Any]) -> AccountCredit:
    return AccountCredit(row.account_id, row.currency, row.account_name, Decimal(row.balance))


def row_from_refund(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": refund.refund_id,
        "account_id": refund.account_id,
        "currency": refund.currency,
        "amount": refund.amount,
        "refunded_at": refund.refunded_at,
        "method": refund.method,
    }


def row_from_entry(entry: Entry) -> dict[str, Any]:
    return {
        "account_id": entry.account_id,
        "currency": entry.currency,
        "kind": entry.kind.value,
        "document_id": entry.document_id,
        "document_number": entry.document_number,
        "invoice_id": entry.invoice_id,
        "amount": entry.amount,
        "occurred_on": entry.occurred_on,
        "due_date": entry.due_date,
    }
