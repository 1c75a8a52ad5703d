"""A History on disk (gzipped JSON): kept with a failing run's report, so the verdict can be
re-checked and the violating deals inspected without the servers; also the checker's fixture."""

from __future__ import annotations

import base64
import gzip
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from chaos.history import (
    DbState,
    History,
    InvoiceRow,
    LeadRow,
    OpportunityRow,
    OrderRow,
    PaymentRow,
    QuoteRow,
    Rec,
)
from chaos.poison import PoisonRecord
from contracts.envelope import decode, encode

_ROWS: dict[str, type[Any]] = {
    "opportunities": OpportunityRow,
    "quotes": QuoteRow,
    "orders": OrderRow,
    "invoices": InvoiceRow,
    "payments": PaymentRow,
}


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode()


def _unb64(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
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
    }


def _row(cls: type[Any], data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in fields(cls):
        value, kind = data[f.name], str(f.type)
        if value is None:
            pass
        elif kind == "Totals":
            value = tuple(Decimal(x) for x in value)
        elif kind.startswith("UUID"):
            value = UUID(value)
        elif kind == "Decimal":
            value = Decimal(value)
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
        setattr(db, name, [_row(cls, r) for r in raw[name]])
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
    )


def dump(history: History, path: Path) -> Path:
    path.write_bytes(gzip.compress(orjson.dumps(to_dict(history), default=_default), 6))
    return path


def load(path: Path) -> History:
    return from_dict(orjson.loads(gzip.decompress(path.read_bytes())))
