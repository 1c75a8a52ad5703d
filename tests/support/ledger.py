"""One account's receivable entries that obey invoice_svc's rules (see the comment over
`receivable_entries` in services/invoice_svc/store/tables.py), with the figures they must give.

Shared by the unit tests of the pure receivables and statement code and by the integration test
that writes the same entries to PostgreSQL and reads them back through the CLI.

Six invoices in EUR: INV-1 part paid and long overdue; INV-2 credited, then overpaid, the excess
moved to customer credit (a `to_credit` pair); INV-3 partly settled from that credit (a
`credit_applied` pair); part of the credit refunded; INV-4, INV-5, INV-6 open in other buckets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from uuid import UUID

from salesflow.receivables import KindSum
from salesflow.statement import LedgerEntry

D = Decimal
AS_OF = date(2026, 6, 30)
PAST = date(2026, 3, 31)

# As of AS_OF: invoiced, credited, paid, refunded, outstanding, unapplied credit, then ageing
# (current, 1-30, 31-60, 61-90, over 90).
FIGURES = {
    "invoiced": D("2231.01"),
    "credited": D("100.01"),
    "paid": D("850.05"),
    "refunded": D("10.00"),
    "outstanding": D("1290.95"),
    "unapplied_credit": D("10.01"),
}
AGEING = (D("200.00"), D("150.50"), D("270.33"), D("80.08"), D("600.05"))
# As of PAST (INV-3, INV-4, INV-5, the application and the refund not yet there).
PAST_FIGURES = {
    "invoiced": D("1580.18"),
    "credited": D("100.01"),
    "paid": D("850.05"),
    "refunded": D("0.00"),
    "outstanding": D("630.12"),
    "unapplied_credit": D("50.01"),
}
PAST_AGEING = (D("80.08"), D("0.00"), D("600.05"), D("0.00"), D("0.00"))
# A statement from 2026-03-01 to PAST opens at INV-1 less its payment.
MARCH_OPENING = D("600.05")


def scenario(invoice_ids: list[UUID], tag: str = "") -> list[LedgerEntry]:
    """The entries, in the order invoice_svc would write them; `invoice_ids` names the six
    invoices, `tag` makes the document ids and numbers unique in a shared database."""
    i1, i2, i3, i4, i5, i6 = invoice_ids
    rows: list[tuple[str, str, UUID | None, str, date, date | None]] = [
        ("invoice", "INV-1", i1, "1000.10", date(2026, 1, 10), date(2026, 2, 9)),
        ("payment", "P-1", i1, "-400.05", date(2026, 2, 1), None),
        ("invoice", "INV-2", i2, "500.00", date(2026, 3, 1), date(2026, 3, 31)),
        ("credit_note", "CN-1", i2, "-100.01", date(2026, 3, 5), None),
        ("payment", "P-2", i2, "-450.00", date(2026, 3, 10), None),
        ("to_credit", "P-2", i2, "50.01", date(2026, 3, 10), None),
        ("to_credit", "P-2", None, "-50.01", date(2026, 3, 10), None),
        ("invoice", "INV-6", i6, "80.08", date(2026, 3, 15), date(2026, 4, 14)),
        ("invoice", "INV-3", i3, "300.33", date(2026, 4, 1), date(2026, 5, 1)),
        ("credit_applied", "APP-1", i3, "-30.00", date(2026, 4, 2), None),
        ("credit_applied", "APP-1", None, "30.00", date(2026, 4, 2), None),
        ("invoice", "INV-5", i5, "150.50", date(2026, 4, 20), date(2026, 5, 31)),
        ("refund", "RF-1", None, "10.00", date(2026, 5, 15), None),
        ("invoice", "INV-4", i4, "200.00", date(2026, 6, 20), date(2026, 7, 20)),
    ]
    return [
        LedgerEntry(
            entry_id=n,
            kind=kind,
            document_id=str(invoice) if kind == "invoice" else f"{number}{tag}",
            document_number=f"{number}{tag}",
            invoice_id=invoice,
            amount=D(amount),
            occurred_on=on,
            due_date=due,
        )
        for n, (kind, number, invoice, amount, on, due) in enumerate(rows, start=1)
    ]


def kind_sums(entries: Iterable[LedgerEntry], account_id: UUID, as_of: date) -> list[KindSum]:
    """What the receivables query returns for these entries: sums per invoice and kind."""
    sums: dict[tuple[UUID | None, str], KindSum] = {}
    for e in entries:
        if e.occurred_on > as_of:
            continue
        key = (e.invoice_id, e.kind)
        before = sums.get(key)
        amount = e.amount + (before.amount if before else D(0))
        due = e.due_date or (before.due_date if before else None)
        sums[key] = KindSum(account_id, "EUR", e.invoice_id, e.kind, amount, due)
    return list(sums.values())
