"""quote_svc's own PostgreSQL schema: tables, the per-batch book, and its Postgres adapter.

A batch loads what its messages touch in a handful of queries (the opportunities and all their
quote revisions, locked; the price list items its skus need; the accounts' master data; this
year's quote counter, locked, when the batch opens opportunities). Handlers decide against the
in-memory `QuoteBook`, and `save` writes what changed with executemany statements.
"""

from services.quote_svc.store.book import QuoteBook, Touches
from services.quote_svc.store.postgres import QuoteStore
from services.quote_svc.store.rows import line_from_json, line_to_json
from services.quote_svc.store.tables import (
    SCHEMA,
    accounts,
    inbox,
    metadata,
    opportunities,
    outbox,
    price_list_items,
    quote_counters,
    quotes,
    volume_discounts,
)

__all__ = [
    "SCHEMA",
    "QuoteBook",
    "QuoteStore",
    "Touches",
    "accounts",
    "inbox",
    "line_from_json",
    "line_to_json",
    "metadata",
    "opportunities",
    "outbox",
    "price_list_items",
    "quote_counters",
    "quotes",
    "volume_discounts",
]
