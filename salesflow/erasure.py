"""`salesflow erase contact`: a person's right to erasure, across every service.

One PostgreSQL transaction runs each service's own erasure (`services/<service>/store/erasure.py`)
under that service's role (`shared.erasure`); after it commits, `contact.erased` is published for
every contact found, on the contact's compacted topic under its id, so the ERP or CRM following
it erases its copy and compaction drops the contact's earlier details (`contracts.topics`).
Run by an operator who is the database's owner (a member of every service role) and Kafka's
admin. Running it again is harmless: the rows are already erased, the events are idempotent.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from contracts.accounts import ContactErased
from contracts.envelope import encode, kafka_headers, make_envelope
from contracts.stages import STAGES
from contracts.topics import topic_for_event
from shared import kafka_clients
from shared.db import make_engine
from shared.erasure import Erased, Eraser, ErasureRequest, erase_everywhere
from shared.settings import RuntimeSettings

PRODUCER = "salesflow-erasure"


@dataclass(frozen=True, slots=True)
class ErasureReport:
    contact_ids: frozenset[UUID]
    by_service: dict[str, Erased]
    published: int


def erasers() -> list[tuple[str, Eraser]]:
    """Every service's erasure, in stage order (lead_svc first: it finds contacts by email)."""
    found: list[tuple[str, Eraser]] = []
    for stage in STAGES:
        module = importlib.import_module(f"services.{stage.service}.store.erasure")
        found.append((stage.service, module.erase))
    return found


async def erase_contact(
    runtime: RuntimeSettings,
    request: ErasureRequest,
    *,
    requested_by: str,
    reference: str | None = None,
) -> ErasureReport:
    engine = make_engine(
        runtime.sqlalchemy_url(),
        pool_size=1,
        application_name="salesflow-erasure",
    )
    try:
        async with engine.begin() as conn:
            request, by_service = await erase_everywhere(conn, request, erasers())
    finally:
        await engine.dispose()
    published = await _announce(runtime, request.contact_ids, requested_by, reference)
    return ErasureReport(request.contact_ids, by_service, published)


async def _announce(
    runtime: RuntimeSettings,
    contact_ids: frozenset[UUID],
    requested_by: str,
    reference: str | None,
) -> int:
    if not contact_ids:
        return 0
    name = topic_for_event(ContactErased.EVENT_TYPE).name
    producer = kafka_clients.producer(
        runtime.kafka_bootstrap,
        security=runtime.kafka_security,
        client_id=PRODUCER,
        acks="all",
        enable_idempotence=True,
    )
    await producer.start()
    try:
        for contact_id in sorted(contact_ids):
            envelope = make_envelope(
                ContactErased(
                    contact_id=contact_id, requested_by=requested_by, reference=reference
                ),
                event_type=ContactErased.EVENT_TYPE,
                # master data: the record's own id is the deal id and the key (contracts.topics)
                deal_id=str(contact_id),
                producer=PRODUCER,
                occurred_at=datetime.now(UTC),
            )
            await producer.send_and_wait(
                name,
                encode(envelope),
                key=str(contact_id).encode(),
                headers=kafka_headers(envelope),
            )
    finally:
        await producer.stop()
    return len(contact_ids)


def render(report: ErasureReport) -> str:
    lines = [f"contacts erased: {', '.join(map(str, sorted(report.contact_ids))) or 'none found'}"]
    for service, erased in report.by_service.items():
        rows = (
            ", ".join(f"{table} {count}" for table, count in erased.rows.items()) or "nothing held"
        )
        lines.append(f"  {service}: {rows}")
    lines.append(f"contact.erased published: {report.published}")
    lines.append(
        "still in Kafka until retention deletes it: the person's events on the deal topics "
        "(7 days), dead letters (28 days); on contact.updated the erasure supersedes the "
        "details, compacted away within 7 days"
    )
    return "\n".join(lines)
