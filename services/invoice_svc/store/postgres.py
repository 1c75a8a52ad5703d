"""Postgres adapter of invoice_svc: load a batch's book in a few queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path. Every statement
has one SQL text whatever the batch holds: keys are bound as arrays (`any_of`), inserts go
through `insert_many` / `upsert_many`, so each is compiled once and prepared once per connection.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import and_, bindparam, delete, false, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invoice_svc.domain import InvoiceCounter
from services.invoice_svc.store.book import InvoiceBook, Touches
from services.invoice_svc.store.orders import load_orders, names_of
from services.invoice_svc.store.remittances import load_held_payments, row_from_remittance
from services.invoice_svc.store.rows import (
    claim_from_row,
    credit_from_row,
    invoice_from_row,
    note_from_row,
    row_from_claim,
    row_from_credit,
    row_from_entry,
    row_from_invoice,
    row_from_note,
    row_from_order,
    row_from_payment,
    row_from_refund,
)
from services.invoice_svc.store.tables import (
    SCHEMA,
    account_credits,
    acknowledged_ahead,
    cancelled_ahead,
    credit_applications,
    credit_note_counters,
    credit_notes,
    held_payments,
    invoice_counters,
    invoices,
    orders,
    payments,
    pending_external_invoices,
    receivable_entries,
    refunds,
    shipped_ahead,
)
from shared.counters import YearCounters
from shared.db import any_of, insert_many, upsert_many

_INVOICE_NUMBERS = YearCounters(invoice_counters)
_CREDIT_NOTE_NUMBERS = YearCounters(credit_note_counters)
# Customer credit of the accounts a batch touches, locked (after the invoices, before the
# counters: everyone locks in this order). Two arrays, one SQL text whatever the batch holds.
_CREDITS = text(
    f"SELECT account_id, currency, account_name, balance FROM {SCHEMA}.account_credits "  # noqa: S608 - a constant schema name
    "WHERE (account_id, currency) IN (SELECT * FROM unnest(CAST(:ids AS uuid[]), "
    "CAST(:currencies AS text[]))) ORDER BY account_id, currency FOR UPDATE"
)


async def _follow_up_candidates(conn: AsyncConnection, touches: Touches) -> list[UUID]:
    c = invoices.c
    rows = await conn.execute(
        select(c.invoice_id).where(
            c.balance_due > 0,
            c.state != "canceled",
            c.due_date < touches.due_before,
            or_(c.overdue_on.is_(None), c.dunning_level < touches.dunning_levels),
        )
    )
    return [row.invoice_id for row in rows]


class InvoiceStore:
    """Postgres adapter of invoice_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(self, conn: AsyncConnection, touches: Touches) -> InvoiceBook:
        """Everything the batch touches, locked in one fixed order (order locks; orders and
        what was read ahead of them; held ERP invoices; held payments; invoices; customer
        credit; counters) so that two batches that meet wait for each other instead of
        deadlocking (`orders`)."""
        book = InvoiceBook()
        order_ids = await load_orders(conn, book, touches)
        order_numbers, erp_numbers = names_of(book, touches)
        external_ids = sorted(touches.external_ids)
        numbers = set(touches.invoice_numbers)
        stale_before = touches.held_received_before
        if external_ids or order_ids or order_numbers or erp_numbers or stale_before:
            held = pending_external_invoices.c
            rows = await conn.execute(
                select(pending_external_invoices)
                .where(
                    or_(
                        any_of(held.external_invoice_id, external_ids),
                        any_of(held.order_id, order_ids),
                        any_of(held.order_number, order_numbers),
                        any_of(held.erp_order_number, erp_numbers),
                        # A tick: the ones waiting too long, not alerted about yet.
                        and_(held.received_at < stale_before, held.alerted_at.is_(None))
                        if stale_before is not None
                        else false(),
                    )
                )
                .order_by(pending_external_invoices.c.external_invoice_id)
                .with_for_update()
            )
            for row in rows:
                claim = claim_from_row(row)
                book.held[claim.external_invoice_id] = claim
                numbers.add(claim.invoice_number)
        await load_held_payments(
            conn,
            book,
            order_numbers=order_numbers,
            erp_order_numbers=erp_numbers,
            external_ids=set(external_ids) | set(book.held),
            payment_ids=touches.payment_ids,
        )
        invoice_ids = set(touches.invoice_ids)
        if touches.due_before is not None:
            # Unlocked: the candidates of a tick's follow-up, locked with the others below and
            # decided under that lock.
            invoice_ids.update(await _follow_up_candidates(conn, touches))
        if order_ids or invoice_ids or external_ids or numbers:
            rows = await conn.execute(
                select(invoices)
                .where(
                    or_(
                        any_of(invoices.c.invoice_id, sorted(invoice_ids)),
                        any_of(invoices.c.order_id, order_ids),
                        any_of(invoices.c.external_invoice_id, external_ids),
                        any_of(invoices.c.invoice_number, sorted(numbers)),
                    )
                )
                .order_by(invoices.c.invoice_id)
                .with_for_update()
            )
            for row in rows:
                book.known_invoice(invoice_from_row(row))
        await _load_documents(conn, book, touches)
        accounts: set[tuple[UUID, str]] = set(touches.accounts)
        accounts.update((i.account_id, i.currency) for i in book.invoices.values())
        accounts.update((o.account_id, o.currency) for o in book.orders.values())
        if accounts:
            ordered = sorted(accounts, key=_account_order)
            found = await conn.execute(
                _CREDITS, {"ids": [k[0] for k in ordered], "currencies": [k[1] for k in ordered]}
            )
            for row in found:
                book.credits[(row.account_id, row.currency)] = credit_from_row(row)
        for year, last in (await _INVOICE_NUMBERS.lock(conn, _years(touches.counter_year))).items():
            book.counters[year] = InvoiceCounter(year, last)
        credit_years = _years(touches.credit_counter_year)
        for year, last in (await _CREDIT_NOTE_NUMBERS.lock(conn, credit_years)).items():
            book.credit_counters[year] = InvoiceCounter(year, last)
        return book

    async def save(self, conn: AsyncConnection, book: InvoiceBook) -> None:
        await upsert_many(
            conn, orders, [row_from_order(o) for o in book.changed_orders.values()], ["order_id"]
        )
        changed = book.changed_invoices.values()
        # Plain INSERT, not an upsert: a second invoice with the same id (order, shipment), ERP
        # id or number must fail loudly on the UNIQUE constraints, never overwrite the first.
        await insert_many(
            conn,
            invoices,
            [row_from_invoice(i) for i in changed if i.invoice_id in book.new_invoice_ids],
        )
        await upsert_many(
            conn,
            invoices,
            [row_from_invoice(i) for i in changed if i.invoice_id not in book.new_invoice_ids],
            ["invoice_id"],
        )
        await insert_many(conn, credit_notes, [row_from_note(n) for n in book.new_notes])
        await insert_many(conn, payments, [row_from_payment(i, p) for i, p in book.new_payments])
        await upsert_many(
            conn,
            account_credits,
            [
                row_from_credit(book.credits[k])
                for k in sorted(book.changed_credits, key=_account_order)
            ],
            ["account_id", "currency"],
        )
        await insert_many(conn, refunds, [row_from_refund(r) for r in book.new_refunds])
        await insert_many(
            conn,
            credit_applications,
            [
                {
                    "application_id": a,
                    "account_id": acc,
                    "invoice_id": inv,
                    "currency": cur,
                    "amount": amount,
                    "applied_at": at,
                }
                for a, acc, inv, cur, amount, at in book.new_applications
            ],
        )
        await insert_many(conn, receivable_entries, [row_from_entry(e) for e in book.new_entries])
        await insert_many(
            conn, pending_external_invoices, [row_from_claim(c) for c in book.new_held.values()]
        )
        alerted = [
            {"key": k, "alerted_at": c.alerted_at}
            for k, c in sorted(book.changed_held.items())
            if k not in book.released
        ]
        if alerted:
            held = pending_external_invoices.c
            await conn.execute(
                update(pending_external_invoices)
                .where(held.external_invoice_id == bindparam("key"))
                .values(alerted_at=bindparam("alerted_at")),
                alerted,
            )
        if book.released:
            await conn.execute(
                delete(pending_external_invoices).where(
                    any_of(pending_external_invoices.c.external_invoice_id, sorted(book.released))
                )
            )
        await insert_many(
            conn,
            held_payments,
            [row_from_remittance(r) for r in book.new_held_payments.values()],
        )
        if book.released_payments:
            await conn.execute(
                delete(held_payments).where(
                    any_of(held_payments.c.payment_id, sorted(book.released_payments))
                )
            )
        await insert_many(
            conn,
            cancelled_ahead,
            [
                {
                    "order_id": o,
                    "deal_id": d,
                    "reason": r,
                    "received_at": at,
                    "shipped": {str(n): str(q) for n, q in shipped.items()},
                }
                for o, (d, r, at, shipped) in book.cancelled_ahead.items()
                if o in book.new_cancelled_ahead
            ],
        )
        await upsert_many(
            conn,
            shipped_ahead,
            [
                {
                    "order_id": o,
                    "deal_id": d,
                    "shipment_ref": ref,
                    "shipped": {str(n): str(q) for n, q in shipped.items()},
                    "received_at": at,
                }
                for o, (d, ref, shipped, at) in book.shipped_ahead.items()
                if o in book.new_shipped_ahead
            ],
            ["order_id"],
        )
        if book.applied_shipped_ahead:
            await conn.execute(
                delete(shipped_ahead).where(
                    any_of(shipped_ahead.c.order_id, sorted(book.applied_shipped_ahead))
                )
            )
        await upsert_many(
            conn,
            acknowledged_ahead,
            [
                {"order_id": o, "deal_id": d, "erp_order_number": erp, "received_at": at}
                for o, (d, erp, at) in book.acknowledged_ahead.items()
                if o in book.new_acknowledged_ahead
            ],
            ["order_id"],
        )
        if book.applied_acknowledged_ahead:
            await conn.execute(
                delete(acknowledged_ahead).where(
                    any_of(acknowledged_ahead.c.order_id, sorted(book.applied_acknowledged_ahead))
                )
            )
        if book.applied_cancelled_ahead:
            await conn.execute(
                delete(cancelled_ahead).where(
                    any_of(cancelled_ahead.c.order_id, sorted(book.applied_cancelled_ahead))
                )
            )
        await _INVOICE_NUMBERS.save(conn, {c.year: c.last for c in book.changed_counters.values()})
        await _CREDIT_NOTE_NUMBERS.save(
            conn, {c.year: c.last for c in book.changed_credit_counters.values()}
        )


async def _load_documents(conn: AsyncConnection, book: InvoiceBook, touches: Touches) -> None:
    """Credit notes, payments, refunds and credit applications already recorded: what makes
    a retried command a no-op. Read after the invoices are locked, each in a statement of its
    own, so a concurrent batch recording the same thing is seen once it committed."""
    invoice_ids = sorted(book.invoices)
    if invoice_ids or touches.external_credit_ids:
        rows = await conn.execute(
            select(credit_notes).where(
                or_(
                    any_of(credit_notes.c.invoice_id, invoice_ids),
                    any_of(
                        credit_notes.c.external_credit_note_id,
                        sorted(touches.external_credit_ids),
                    ),
                )
            )
        )
        for row in rows:
            book.known_note(note_from_row(row))
    # Payments held and settled by this batch are retries of one recorded already, maybe.
    payment_ids = touches.payment_ids | set(book.held_payments)
    if payment_ids:
        rows = await conn.execute(
            select(payments.c.payment_id, payments.c.invoice_id).where(
                any_of(payments.c.payment_id, sorted(payment_ids))
            )
        )
        for row in rows:
            book.payments_seen[row.payment_id].add(row.invoice_id)
    if touches.refund_ids:
        rows = await conn.execute(
            select(refunds.c.refund_id).where(
                any_of(refunds.c.refund_id, sorted(touches.refund_ids))
            )
        )
        book.refunds_seen.update(row.refund_id for row in rows)
    if touches.application_ids:
        rows = await conn.execute(
            select(credit_applications.c.application_id).where(
                any_of(credit_applications.c.application_id, sorted(touches.application_ids))
            )
        )
        book.applications_seen.update(row.application_id for row in rows)


def _account_order(key: tuple[UUID, str]) -> tuple[str, str]:
    return (str(key[0]), key[1])


def _years(year: int | None) -> list[int]:
    return [] if year is None else [year]
