"""order_svc's own PostgreSQL schema: tables, the per-batch book, its Postgres adapter
and the row codecs (`rows`: orders; `parties`: the customer details they carry).

A batch loads what its messages touch in two queries (the year's order counter, locked; the
orders by id, quote id or deal id, locked), the handlers decide against the in-memory
`OrderBook`, and `save` writes what changed: new orders with a plain multi-row INSERT (so the
UNIQUE constraints on quote_id and order_number can object), changed ones with one executemany
upsert.
"""

from services.order_svc.store.book import OrderBook, Touches
from services.order_svc.store.postgres import OrderStore
from services.order_svc.store.rows import order_from_row, row_from_order
from services.order_svc.store.tables import SCHEMA, inbox, metadata, order_counters, orders, outbox

__all__ = [
    "SCHEMA",
    "OrderBook",
    "OrderStore",
    "Touches",
    "inbox",
    "metadata",
    "order_counters",
    "order_from_row",
    "orders",
    "outbox",
    "row_from_order",
]
