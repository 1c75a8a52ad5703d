"""invoice_svc's own PostgreSQL schema: tables, the per-batch book, and its Postgres adapter.

A batch loads everything its messages touch in a handful of queries (orders, held ERP invoices,
invoices, known payment ids, the year's number counter), the handlers decide against the
in-memory `InvoiceBook`, and `save` writes what changed with multi-row statements.
"""

from services.invoice_svc.store.book import InvoiceBook, Touches
from services.invoice_svc.store.postgres import InvoiceStore, lines_from_json, lines_to_json
from services.invoice_svc.store.tables import (
    SCHEMA,
    cancelled_ahead,
    inbox,
    invoice_counters,
    invoices,
    metadata,
    orders,
    outbox,
    payments,
    pending_external_invoices,
)

__all__ = [
    "SCHEMA",
    "InvoiceBook",
    "InvoiceStore",
    "Touches",
    "cancelled_ahead",
    "inbox",
    "invoice_counters",
    "invoices",
    "lines_from_json",
    "lines_to_json",
    "metadata",
    "orders",
    "outbox",
    "payments",
    "pending_external_invoices",
]
