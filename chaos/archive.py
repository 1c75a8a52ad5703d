"""A History on disk (gzipped JSON): kept with a failing run's report, so the verdict can be
re-checked and the violating deals inspected without the servers; also the checker's fixture."""

from __future__ import annotations

import base64
import gzip
from dataclasses import asdict, fields, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from chaos.history import (
    BilledOrderRow,
    CreditNoteRow,
    CreditRow,
    DbState,
    EntryRow,
    History,
    InvoiceRow,
    LeadRow,
    NumberStats,
    OpportunityRow,
    OrderRow,
    PaymentRow,
    QuoteRow,
    Rec,
    RefundRow,
)
from chaos.poison import PoisonRecord
from contracts.envelope import decode, encode

_ROWS: dict[str, type[Any]] = {
    "opportunities": OpportunityRow,
    "quotes": QuoteRow,
    "orders": OrderRow,
    "invoices": InvoiceRow,
    "payments": PaymentRow,
    "billed_orders": BilledOrderRow,
    "credit_notes": CreditNoteRow,
    "entries": EntryRow,
    "credits": CreditRow,
    "refunds": RefundRow,
    "numbers": NumberStats,
}


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode()


def _unb64(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_dict(history: History) -> dict[str, Any]:
    db = history.db
    return {
        "run_id": history.run_id,
        "records": [
            {
                "t": r.topic,
                "p": r.partition,
                "o": r.offset,
                "k": r.key,
                "ts": r.timestamp_ms,
                "h": [[k, _b64(v)] for k, v in r.headers],
                "e": None if r.env is None else encode(r.env).decode(),
            }
            for r in history.records
        ],
        "db": {
            "leads": [asdict(row) for row in db.leads.values()],
            **{name: [asdict(row) for row in getattr(db, name)] for name in _ROWS},
            "inbox": {s: sorted(str(i) for i in ids) for s, ids in db.inbox.items()},
            "outbox_rows": db.outbox_rows,
        },
        "consumes": {s: list(t) for s, t in history.consumes.items()},
        "poison": [
            {**asdict(p), "value": None, "headers": [[k, _b64(v)] for k, v in p.headers]}
            for p in history.poison
        ],
        "lag": history.lag,
        "duplicates_dropped": history.duplicates_dropped,
        "dedupe_required": history.dedupe_required,
        "native_invoicing": history.native_invoicing,
        "default_billing": history.default_billing,
    }


def _row(cls: type[Any], data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:  # written before the field existed: its default
            continue
        value, kind = data[f.name], str(f.type)
        if value is None:
            pass
        elif kind == "Totals":
            value = tuple(Decimal(x) for x in value)
        elif kind == "QtyLines":
            value = tuple((int(n), Decimal(q)) for n, q in value)
        elif kind.startswith("UUID"):
            value = UUID(value)
        elif kind == "Decimal":
            value = Decimal(value)
        elif kind.startswith("date"):
            value = date.fromisoformat(value)
        values[f.name] = value
    return cls(**values)


def from_dict(data: dict[str, Any]) -> History:
    raw = data["db"]
    db = DbState(
        leads={r["lead_id"]: _row(LeadRow, r) for r in raw["leads"]},
        inbox={s: {UUID(i) for i in ids} for s, ids in raw["inbox"].items()},
        outbox_rows=raw["outbox_rows"],
    )
    for name, cls in _ROWS.items():
        setattr(db, name, [_row(cls, r) for r in raw.get(name, [])])
    records = [
        Rec(
            r["t"],
            r["p"],
            r["o"],
            r["k"],
            r["ts"],
            tuple((k, _unb64(v)) for k, v in r["h"]),
            None if r["e"] is None else decode(r["e"].encode(), max_bytes=10 * 1024 * 1024),
        )
        for r in data["records"]
    ]
    poison = [
        PoisonRecord(
            **{
                **p,
                "headers": tuple((k, _unb64(v)) for k, v in p["headers"]),
                "event_id": UUID(p["event_id"]) if p["event_id"] else None,
            }
        )
        for p in data["poison"]
    ]
    return History(
        run_id=data["run_id"],
        records=records,
        db=db,
        consumes={s: tuple(t) for s, t in data["consumes"].items()},
        poison=poison,
        lag=data["lag"],
        duplicates_dropped=data["duplicates_dropped"],
        dedupe_required=data["dedupe_required"],
        native_invoicing=data["native_invoicing"],
        default_billing=data.get("default_billing", "on_order"),
    )


def dump(history: History, path: Path) -> Path:
    path.write_bytes(gzip.compress(orjson.dumps(to_dict(history), default=_default), 6))
    return path


def load(path: Path) -> History:
    return from_dict(orjson.loads(gzip.decompress(path.read_bytes())))


def trimmed(history: History, deals: set[str]) -> History:
    """The history of `deals` only (and every poison record): their records, the records keyed
    by their accounts, their rows, their accounts' receivables, the inbox entries of the kept
    event ids. Deals that share an account must be kept together, or the account's receivables
    no longer add up. The checker's fixture is made so from a recorded run."""
    db = history.db
    orders = [o for o in db.billed_orders if o.deal_id in deals]
    accounts = {o.account_id for o in orders}
    keys = deals | {str(a) for a in accounts}
    records = [r for r in history.records if r.key in keys or r.key.startswith("poison-")]
    ids = {r.env.event_id for r in records if r.env is not None}
    invoices = [i for i in db.invoices if i.deal_id in deals]
    invoice_ids = {i.invoice_id for i in invoices}
    kept = DbState(
        leads={k: v for k, v in db.leads.items() if k in deals or k.startswith("poison-")},
        opportunities=[o for o in db.opportunities if o.lead_id in deals],
        quotes=[q for q in db.quotes if q.lead_id in deals],
        orders=[o for o in db.orders if o.deal_id in deals],
        invoices=invoices,
        payments=[x for x in db.payments if x.invoice_id in invoice_ids],
        billed_orders=orders,
        credit_notes=[n for n in db.credit_notes if n.deal_id in deals],
        entries=[e for e in db.entries if e.account_id in accounts],
        credits=[c for c in db.credits if c.account_id in accounts],
        refunds=[x for x in db.refunds if x.account_id in accounts],
        numbers=list(db.numbers),
        inbox={s: seen & ids for s, seen in db.inbox.items()},
        outbox_rows=dict(db.outbox_rows),
    )
    return replace(history, records=records, db=kept)
