"""A person's right to erasure across the four services, the workers running as processes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from salesflow.erasure import erase_contact
from shared.erasure import ErasureRequest
from shared.settings import RuntimeSettings
from tests.support.kafka_probe import publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.pipeline import Pipeline, accept, issued_quote, lead_of

pytestmark = pytest.mark.e2e

_TABLES = text(
    "SELECT table_schema, table_name FROM information_schema.tables"
    " WHERE table_schema LIKE '%\\_svc' AND table_type = 'BASE TABLE'"
    " ORDER BY table_schema, table_name"
)


async def _holding(pipe: Pipeline, needle: str) -> dict[str, int]:
    """Every service table with a row whose text mentions `needle` (any column, JSON too)."""
    found: dict[str, int] = {}
    async with pipe.engine.connect() as conn:
        tables = (await conn.execute(_TABLES)).all()
        for schema, table in tables:
            count = await conn.scalar(
                text(
                    f'SELECT count(*) FROM "{schema}"."{table}" AS r'  # noqa: S608 - names from the catalog
                    " WHERE strpos(lower(r::text), lower(:needle)) > 0"
                ),
                {"needle": needle},
            )
            if count:
                found[f"{schema}.{table}"] = int(count)
    return found


async def _invoice_figures(pipe: Pipeline, deal: str) -> list[Any]:
    async with pipe.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT invoice_number, subtotal, tax_total, grand_total, amount_paid, state"
                " FROM invoice_svc.invoices WHERE deal_id = :deal ORDER BY invoice_number"
            ),
            {"deal": deal},
        )
        return [tuple(r) for r in rows]


async def test_an_erased_contacts_email_is_in_no_service_table_and_invoices_are_intact(
    pipeline: Pipeline,
) -> None:
    lead = lead_of("erase")
    deal = lead.deal_id
    person = lead.payload.contact
    issued = await issued_quote(pipeline, lead)
    await accept(pipeline, deal, issued)
    (qualified,) = await pipeline.events(deal, "lead.qualified")
    await pipeline.events(deal, "order.confirmed")
    await pipeline.events(deal, "invoice.posted")
    # A second lead of the same person, never qualified (a duplicate of the first): lead_svc
    # holds it under the email.
    again = captured(f"erase-open-{new_run_id()}", company=None, email=person.email)
    await publish(pipeline.endpoints.kafka, [record_of("lead.captured", again)])
    await pipeline.events(again.deal_id, "lead.disqualified")

    before = await _invoice_figures(pipeline, deal)
    assert before
    held = await _holding(pipeline, person.email)
    assert {"lead_svc.contacts", "lead_svc.leads", "quote_svc.opportunities"} <= set(held)
    assert "order_svc.orders" in held

    runtime = RuntimeSettings(
        kafka_bootstrap=pipeline.endpoints.kafka,
        database_url=pipeline.endpoints.database_url,  # type: ignore[arg-type]
    )
    report = await erase_contact(
        runtime,
        ErasureRequest(email=person.email),
        requested_by="privacy-team",
        reference="DSR-e2e",
    )
    assert qualified.payload.contact_id in report.contact_ids
    assert report.by_service["lead_svc"].rows["lead_svc.leads"] == 2

    assert await _holding(pipeline, person.email) == {}
    assert await _holding(pipeline, person.last_name) == {}
    assert await _invoice_figures(pipeline, deal) == before
    contact = await pipeline.scalar(
        "SELECT contact FROM order_svc.orders WHERE deal_id = :deal", deal=deal
    )
    assert contact["first_name"] == "[erased]"
    assert contact["email"] is None
    # the ERP or CRM following the contact topic hears of it
    (erased,) = await pipeline.events(str(qualified.payload.contact_id), "contact.erased")
    assert erased.payload.reference == "DSR-e2e"
