"""lead_svc's own PostgreSQL schema: tables, the per-batch book, its Postgres adapter
and the row codecs (`rows`: leads; `parties`: accounts and contacts).

A batch loads everything its messages touch in a handful of queries (the leads by id, locked;
their duplicate candidates; accounts and contacts to link), the handlers decide against the
in-memory `LeadBook`, and `save` writes what changed with multi-row statements.
"""

from services.lead_svc.store.book import LeadBook, Touches
from services.lead_svc.store.postgres import LeadStore
from services.lead_svc.store.rows import profile_from_json, profile_to_json
from services.lead_svc.store.tables import (
    SCHEMA,
    accounts,
    contacts,
    inbox,
    leads,
    metadata,
    outbox,
)

__all__ = [
    "SCHEMA",
    "LeadBook",
    "LeadStore",
    "Touches",
    "accounts",
    "contacts",
    "inbox",
    "leads",
    "metadata",
    "outbox",
    "profile_from_json",
    "profile_to_json",
]
