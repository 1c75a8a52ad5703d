"""`salesflow report reconcile` against the pipeline: one deal confirmed, invoiced and paid
today moves the day's figures by exactly that deal, per currency, in the JSON an ERP team's
script reads."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.pipeline import Pipeline, accept, issued_quote, lead_of, pay

pytestmark = pytest.mark.e2e


async def _figures(pipe: Pipeline) -> dict[tuple[str, str], tuple[int, Decimal]]:
    cli = Path(sys.executable).with_name("salesflow")
    env = {**os.environ, "SALESFLOW_DATABASE_URL": pipe.endpoints.database_url}
    day = datetime.now(UTC).date().isoformat()
    process = await asyncio.create_subprocess_exec(
        str(cli),
        "report",
        "reconcile",
        "--date",
        day,
        "--format",
        "json",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    data: dict[str, Any] = json.loads(out)
    assert data["date"] == day
    return {
        (f["currency"], f["figure"]): (f["count"], Decimal(f["total"])) for f in data["figures"]
    }


async def test_a_deal_paid_today_moves_the_days_figures_by_itself(pipeline: Pipeline) -> None:
    before = await _figures(pipeline)
    lead = lead_of("reconcile")
    quote = await issued_quote(pipeline, lead)
    await accept(pipeline, lead.deal_id, quote)
    (order,) = await pipeline.events(lead.deal_id, "order.confirmed")
    (invoice,) = await pipeline.events(lead.deal_id, "invoice.posted")
    grand = invoice.payload.totals.grand_total
    await pay(pipeline, lead.deal_id, invoice, grand, 1)
    await pipeline.events(lead.deal_id, "invoice.paid")
    after = await _figures(pipeline)

    currency = order.payload.currency
    assert grand == order.payload.totals.grand_total
    for figure in ("orders confirmed", "invoices posted", "payments received"):
        count, total = before.get((currency, figure), (0, Decimal(0)))
        assert after[(currency, figure)] == (count + 1, total + grand), figure
    for key in set(after) - {
        (currency, f) for f in ("orders confirmed", "invoices posted", "payments received")
    }:
        assert after[key] == before.get(key), key
