"""Payments held until what they name is known (`held_payments`): their rows, and their load.

Loaded by every name a batch may make known (salesflow's order numbers and the ERP's of the
orders it touches, the ERP invoice ids it names or holds, the payment ids it records), after
the held ERP invoices and before the invoices, locked: the batch that holds a payment and the
one that settles it meet on the order's advisory locks (a name) or on the held ERP invoice's
row (an ERP invoice id), so one of them sees the other's commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Text, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invoice_svc.domain import Payment, Remittance
from services.invoice_svc.store.book import InvoiceBook
from services.invoice_svc.store.tables import held_payments
from shared.db import any_of


def row_from_remittance(remittance: Remittance) -> dict[str, Any]:
    payment = remittance.payment
    return {
        "payment_id": payment.payment_id,
        "deal_id": remittance.deal_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "paid_at": payment.paid_at,
        "method": payment.method,
        "order_number": remittance.order_number,
        "erp_order_number": remittance.erp_order_number,
        "allocations": [
            [None if i is None else str(i), ext, str(amount)]
            for i, ext, amount in remittance.allocations
        ],
        "external_invoice_ids": sorted(remittance.external_invoice_ids),
        "command_event_id": remittance.command_event_id,
        "received_at": remittance.received_at,
    }


def remittance_from_row(row: Row[Any]) -> Remittance:
    return Remittance(
        payment=Payment(
            payment_id=row.payment_id,
            amount=row.amount,
            currency=row.currency,
            paid_at=row.paid_at,
            method=row.method,
            # Until it is settled; the batch that settles it records it at its own time.
            recorded_at=row.received_at,
        ),
        deal_id=row.deal_id,
        command_event_id=row.command_event_id,
        received_at=row.received_at,
        order_number=row.order_number,
        erp_order_number=row.erp_order_number,
        allocations=tuple(
            (None if i is None else UUID(i), ext, Decimal(amount))
            for i, ext, amount in row.allocations
        ),
    )


async def load_held_payments(
    conn: AsyncConnection,
    book: InvoiceBook,
    *,
    order_numbers: Iterable[str],
    erp_order_numbers: Iterable[str],
    external_ids: Iterable[str],
    payment_ids: Iterable[str],
) -> None:
    """The payments held under any of these names, locked, into the book."""
    numbers, erp, external = sorted(order_numbers), sorted(erp_order_numbers), sorted(external_ids)
    ids = sorted(payment_ids)
    if not (numbers or erp or external or ids):
        return
    held = held_payments.c
    rows = await conn.execute(
        select(held_payments)
        .where(
            or_(
                any_of(held.order_number, numbers),
                any_of(held.erp_order_number, erp),
                held.external_invoice_ids.overlap(bindparam(None, external, type_=ARRAY(Text))),
                any_of(held.payment_id, ids),
            )
        )
        .order_by(held.payment_id)
        .with_for_update()
    )
    for row in rows:
        remittance = remittance_from_row(row)
        book.held_payments[remittance.payment.payment_id] = remittance
