"""`salesflow accounts import FILE`: master data in bulk, as a CRM's or an ERP's first sync
would send it: one `account.upsert` payload per JSON line, published to `account.commands`.

Each line is validated by the contract first (a bad line is reported by number and field and
the rest are sent); the event id is derived from the line, so the same file sent twice is
applied once (lead_svc's inbox). `--wait` waits until lead_svc holds every account that names
an ERP customer number, so that leads imported next link to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid5

import orjson
from pydantic import ValidationError
from sqlalchemy import text

from contracts.accounts import UpsertAccount
from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from salesflow.book_queries import read_only
from shared import kafka_clients

TOPIC = "account.commands"
_NAMESPACE = UUID("0c4f1f6e-5d2a-4b8e-9e7a-3a1d2c5b6f70")
_HELD = text(
    "SELECT count(*) FROM lead_svc.accounts WHERE erp_customer_number = ANY(CAST(:n AS text[]))"
)


@dataclass
class AccountPlan:
    envelopes: list[Envelope[UpsertAccount]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lines: int = 0


def plan_accounts(text_: str, *, producer: str = "account-import") -> AccountPlan:
    plan = AccountPlan()
    at = datetime.now(UTC)
    for n, line in enumerate(text_.splitlines(), start=1):
        if not line.strip():
            continue
        plan.lines += 1
        try:
            payload = UpsertAccount.model_validate(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            plan.errors.append(f"line {n}: not JSON: {error}")
            continue
        except ValidationError as error:
            plan.errors.extend(
                f"line {n}: {'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}"
                for e in error.errors()
            )
            continue
        key = str(payload.account_id) if payload.account_id else payload.external_ref or ""
        digest = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
        plan.envelopes.append(
            make_envelope(
                payload,
                event_type=payload.EVENT_TYPE,
                deal_id=key,
                producer=producer,
                occurred_at=at,
                event_id=uuid5(_NAMESPACE, f"{key}:{digest}"),
            )
        )
    return plan


async def publish_accounts(bootstrap: str, plan: AccountPlan) -> int:
    producer = kafka_clients.producer(bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            await producer.send(
                TOPIC, value=encode(e), key=e.deal_id.encode(), headers=kafka_headers(e)
            )
            for e in plan.envelopes
        ]
        for future in sent:
            await future
        return len(sent)
    finally:
        await producer.stop()


async def wait_until_held(database_url: str, plan: AccountPlan, timeout_s: float) -> bool:
    """Whether lead_svc holds every account of the plan that names an ERP customer number."""
    numbers = sorted(
        {n for e in plan.envelopes if (n := e.payload.details.erp_customer_number) is not None}
    )
    deadline = time.monotonic() + timeout_s
    while True:
        async with read_only(database_url) as conn:
            held = await conn.scalar(_HELD, {"n": numbers})
        if held == len(numbers):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
