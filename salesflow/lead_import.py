"""Importing leads in bulk (purchased lists, trade-show scans) from CSV or JSON lines onto
`lead.captured`, as any web form would publish them.

Every row is validated by the contract before anything is sent; a bad row is reported with its
number, field and reason and the rest are imported. Each row's event id is derived from its lead
id and content: importing the same file twice publishes the same events, which lead_svc's inbox
drops, so nothing is imported twice. A row without a `lead_id` gets one derived from who it is
(email, else company and name), so that too is stable across runs.

CSV columns (header row, any order; only `first_name`, `last_name` and `currency` are required):
lead_id, company_name, first_name, last_name, email, phone, job_title, topic, budget_amount,
currency, purchase_timeframe, product_interests (`SKU-1:2;SKU-2:1`), estimated_amount,
estimated_close_date (YYYY-MM-DD), notes, source, campaign_id.
JSON lines: one object per line with the fields of `lead.captured`'s payload.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import orjson
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.leads import LeadCaptured, LeadSource
from contracts.money import MAX_QUANTITY

TOPIC = "lead.captured"
EVENT_TYPE = "lead.captured"
_NAMESPACE = UUID("6b7c3d52-9a41-4e8f-b0d2-1c5e7f9a3b64")
_CONTACT = ("first_name", "last_name", "email", "phone", "job_title")
_BLANK_IS_NONE = frozenset(
    {
        "company_name",
        "email",
        "phone",
        "job_title",
        "budget_amount",
        "estimated_amount",
        "estimated_close_date",
        "notes",
        "campaign_id",
        "purchase_timeframe",
        "source",
    }
)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    reason: str

    def render(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


@dataclass
class ImportPlan:
    """What a file holds: one envelope per good row, and every error of the bad ones."""

    envelopes: list[tuple[int, Envelope[LeadCaptured]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


def plan_import(
    text: str,
    *,
    fmt: str,
    source: LeadSource = LeadSource.PURCHASED_LIST,
    campaign_id: str | None = None,
    producer: str = "lead-import",
    now: datetime | None = None,
) -> ImportPlan:
    """Parse and validate every row (`fmt`: csv or jsonl); nothing is sent."""
    at = now or datetime.now(UTC)
    plan = ImportPlan()
    seen: dict[str, int] = {}
    for row_no, raw in _rows(text, fmt, plan):
        plan.rows += 1
        data = _payload_data(raw, source, campaign_id)
        try:
            payload = LeadCaptured.model_validate(data)
        except ValidationError as error:
            plan.errors.extend(
                RowError(row_no, ".".join(str(p) for p in e["loc"]) or "row", e["msg"])
                for e in error.errors()
            )
            continue
        too_many = [
            RowError(row_no, f"product_interests.{n}.quantity", f"above {MAX_QUANTITY}")
            for n, interest in enumerate(payload.product_interests)
            if interest.quantity > MAX_QUANTITY
        ]
        if too_many:  # lead_svc would refuse the lead: said here, by row
            plan.errors.extend(too_many)
            continue
        first = seen.setdefault(payload.lead_id, row_no)
        if first != row_no:
            plan.errors.append(RowError(row_no, "lead_id", f"same lead as row {first}"))
            continue
        plan.envelopes.append((row_no, _envelope(payload, producer, at)))
    return plan


def _rows(text: str, fmt: str, plan: ImportPlan) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == "csv":
        # Row numbers count the header as row 1, as a spreadsheet shows them.
        for n, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            yield n, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        return
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            plan.rows += 1
            plan.errors.append(RowError(n, "row", f"not JSON: {error}"))
            continue
        if not isinstance(value, dict):
            plan.rows += 1
            plan.errors.append(RowError(n, "row", "not a JSON object"))
            continue
        yield n, value


def _payload_data(
    raw: dict[str, Any], source: LeadSource, campaign_id: str | None
) -> dict[str, Any]:
    data = {k: (None if k in _BLANK_IS_NONE and v == "" else v) for k, v in raw.items()}
    if "contact" not in data:
        # Flat CSV columns; an empty name stays "" so the contract names the missing field.
        data["contact"] = {k: data.pop(k, None) for k in _CONTACT}
    interests = data.get("product_interests")
    if isinstance(interests, str):
        data["product_interests"] = [_interest(part) for part in interests.split(";") if part]
    data.setdefault("source", source.value)
    data["source"] = data["source"] or source.value
    if campaign_id is not None:
        data.setdefault("campaign_id", campaign_id)
    if data.get("purchase_timeframe") is None:
        data.pop("purchase_timeframe", None)
    if not data.get("topic"):
        data["topic"] = data.get("company_name") or "imported lead"
    if not data.get("lead_id"):
        data["lead_id"] = _derived_lead_id(data)
    return data


def _interest(part: str) -> dict[str, str]:
    sku, _, quantity = part.partition(":")
    return {"sku": sku.strip(), "quantity": quantity.strip() or "1"}


def _derived_lead_id(data: dict[str, Any]) -> str:
    """A stable id for a row that has none: the same person gets the same id in every run."""
    contact = data.get("contact") or {}
    who = (contact.get("email") or "").strip().casefold() or "|".join(
        str(x).strip().casefold()
        for x in (data.get("company_name"), contact.get("first_name"), contact.get("last_name"))
    )
    return "IMP-" + hashlib.sha256(who.encode()).hexdigest()[:20]


def _envelope(payload: LeadCaptured, producer: str, at: datetime) -> Envelope[LeadCaptured]:
    content = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    return make_envelope(
        payload,
        event_type=EVENT_TYPE,
        deal_id=payload.lead_id,
        producer=producer,
        occurred_at=at,
        event_id=uuid5(_NAMESPACE, f"{payload.lead_id}:{content}"),
    )


async def publish_plan(
    producer: AIOKafkaProducer,
    envelopes: Iterable[Envelope[LeadCaptured]],
    *,
    on_sent: Any = None,
    chunk: int = 500,
) -> int:
    """Send the envelopes, `chunk` at a time, awaiting each chunk's acks; returns how many."""
    sent = 0
    pending: list[Any] = []
    for envelope in envelopes:
        pending.append(
            await producer.send(
                TOPIC,
                value=encode(envelope),
                key=envelope.deal_id.encode(),
                headers=kafka_headers(envelope),
            )
        )
        if len(pending) >= chunk:
            sent += await _settle(pending, on_sent)
    return sent + await _settle(pending, on_sent)


async def _settle(pending: list[Any], on_sent: Any) -> int:
    for future in pending:
        await future
    count = len(pending)
    pending.clear()
    if on_sent is not None and count:
        on_sent(count)
    return count
