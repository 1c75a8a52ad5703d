"""invoice_svc's own PostgreSQL schema: tables, the per-batch book, row codecs, the adapter.

A batch loads everything its messages touch in a handful of queries, the handlers decide against
the in-memory `InvoiceBook`, and `save` writes what changed with multi-row statements.
"""

from services.invoice_svc.store.book import InvoiceBook, Touches
from services.invoice_svc.store.postgres import InvoiceStore
from services.invoice_svc.store.rows import lines_from_json, lines_to_json
from services.invoice_svc.store.tables import SCHEMA, metadata

__all__ = [
    "SCHEMA",
    "InvoiceBook",
    "InvoiceStore",
    "Touches",
    "lines_from_json",
    "lines_to_json",
    "metadata",
]
