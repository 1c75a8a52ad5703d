"""Loading a price list from a CSV file onto `catalog.prices`, playing the product master.

One `PriceListItemUpserted` per row, keyed `<price_list_id>:<sku>` so that the compacted topic
keeps the latest price of every item; the envelope's deal id is the price list id (catalog
events belong to no deal). Parsing is pure (`parse_price_list`) and refuses the whole file on
the first bad row, with its line number: half a price list is worse than none.

CSV columns: price_list_id,sku,description,unit_price,currency,tax_rate,unit,active
(`unit` defaults to "each", `active` to true; decimals as written, e.g. 19.99, 0.19).
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.catalog import PriceListItemUpserted
from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.topics import kafka_key
from shared import kafka_clients

PRODUCER = "catalog-loader"
TOPIC = "catalog.prices"
EVENT_TYPE = "catalog.price_upserted"
REQUIRED_COLUMNS = ("sku", "description", "unit_price", "currency", "tax_rate")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})

__all__ = ["PriceListError", "load_price_list", "parse_price_list", "price_envelopes"]


class PriceListError(ValueError):
    """The CSV cannot be loaded; the message names the line and the field."""


def parse_price_list(text: str, *, price_list_id: str | None = None) -> list[PriceListItemUpserted]:
    """The items of a price list CSV, validated by the contract.

    `price_list_id`, when given, replaces the file's column (load one file as another list);
    otherwise every row must name its list.
    """
    reader = csv.DictReader(io.StringIO(text))
    columns = {name.strip() for name in reader.fieldnames or ()}
    needed = set(REQUIRED_COLUMNS) | ({"price_list_id"} if price_list_id is None else set())
    missing = sorted(needed - columns)
    if missing:
        raise PriceListError(f"missing columns: {', '.join(missing)}")
    items: list[PriceListItemUpserted] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        values = {
            (k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)
        }
        if not any(values.values()):
            continue
        item = _item(values, price_list_id, line)
        key = (item.price_list_id, item.sku)
        if key in seen:
            # Two prices for one item: which one the compacted topic keeps would depend on row
            # order, so the file is refused rather than loaded ambiguously.
            raise PriceListError(
                f"line {line}: {item.price_list_id}:{item.sku} repeats line {seen[key]}"
            )
        seen[key] = line
        items.append(item)
    return items


def _item(values: dict[str, str], price_list_id: str | None, line: int) -> PriceListItemUpserted:
    fields: dict[str, Any] = {
        "price_list_id": price_list_id or values.get("price_list_id", ""),
        "sku": values["sku"],
        "description": values["description"],
        "unit_price": values["unit_price"],
        "currency": values["currency"].upper(),
        "tax_rate": values["tax_rate"],
        "unit": values.get("unit") or "each",
        "active": _flag(values.get("active", ""), line),
    }
    try:
        return PriceListItemUpserted.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in error.errors()
        )
        raise PriceListError(f"line {line}: {problems}") from None


def _flag(value: str, line: int) -> bool:
    folded = value.casefold()
    if not folded or folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise PriceListError(f"line {line}: active must be true or false, not {value!r}")


def price_envelopes(
    items: Iterable[PriceListItemUpserted], *, now: datetime
) -> list[Envelope[PriceListItemUpserted]]:
    """One envelope per item; the deal id of a catalog event is its price list id."""
    return [
        make_envelope(
            item,
            event_type=EVENT_TYPE,
            deal_id=item.price_list_id,
            producer=PRODUCER,
            occurred_at=now,
        )
        for item in items
    ]


async def publish_items(bootstrap: str, envelopes: Sequence[Envelope[Any]]) -> None:
    # acks=all + idempotence: aiokafka's defaults (acks=1, no idempotence) could lose or
    # duplicate a price on a leader change.
    producer = kafka_clients.producer(
        bootstrap, client_id=PRODUCER, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        deliveries = [
            await producer.send(TOPIC, encode(e), key=kafka_key(e), headers=kafka_headers(e))
            for e in envelopes
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


async def load_price_list(
    bootstrap: str, csv_path: Path, *, price_list_id: str | None = None
) -> int:
    """Publish every item of the CSV to `catalog.prices`; returns how many were published."""
    text = await asyncio.to_thread(csv_path.read_text, encoding="utf-8-sig")
    items = parse_price_list(text, price_list_id=price_list_id)
    envelopes = price_envelopes(items, now=datetime.now(UTC))
    if envelopes:
        await publish_items(bootstrap, envelopes)
    return len(envelopes)


async def wait_until_quote_svc_holds(
    database_url: str, items: int, *, price_list_id: str = "STANDARD", timeout_s: float = 60.0
) -> None:
    """Wait until quote_svc has stored `items` rows of the price list (it reads catalog.prices
    asynchronously, so a run that quotes right after loading would see write-in lines)."""
    engine = create_async_engine(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            async with engine.connect() as conn:
                have = await conn.scalar(
                    sql_text(
                        "SELECT count(*) FROM quote_svc.price_list_items "
                        "WHERE price_list_id = :price_list_id"
                    ),
                    {"price_list_id": price_list_id},
                )
            if (have or 0) >= items:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the price list never reached quote_svc ({have}/{items})")
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
