"""The three deployments, each end to end: salesflow runs the stages the deployment names (its
workers as processes), the ERP plays the others from the published contracts alone
(`simulator.erp`), with the workers of the ERP's stages stopped; every deal reaches a paid
invoice, and each event comes from whoever runs its stage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts.access import ERP as ERP_PRINCIPAL
from contracts.parties import Address
from contracts.quotes import AcceptQuote
from contracts.stages import DEPLOYMENTS, Deployment, stage
from contracts.topics import consumed_by, topic_for_event
from salesflow.replay import replay
from shared import kafka_clients
from shared.kafka_security import KafkaSecurity
from shared.local_secrets import password_file
from simulator.erp import PRODUCER, ErpPlayer
from tests.support.kafka_probe import publish, record_of
from tests.support.pipeline import Pipeline, command, lead_of, pay

pytestmark = pytest.mark.e2e

DEALS = 3
# Which stage publishes each event type a deal goes through to a paid invoice.
JOURNEY = {
    "lead.qualified": "lead",
    "quote.issued": "quote",
    "quote.accepted": "quote",
    "order.confirmed": "order",
    "invoice.posted": "invoice",
    "invoice.paid": "invoice",
}
WAREHOUSE = Address(
    lines=("Dock 4", "Industriestr. 9"), city="Bremen", postal_code="28199", country="DE"
)


@pytest.fixture
async def deployed(
    pipeline: Pipeline, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Pipeline, Deployment]]:
    """The pipeline with the workers of the ERP's stages stopped; afterwards their groups are
    moved past what the ERP handled (a worker started later must not book the ERP's deals a
    second time, as an operator would do when changing a deployment) and they run again."""
    plan: Deployment = request.param
    stopped = [name for name in plan.erp_stages if name in pipeline.workers]
    for name in stopped:
        pipeline.stop(name)
    try:
        yield pipeline, plan
    finally:
        for name in stopped:
            group = stage(name).group_id
            topics = [spec.name for spec in consumed_by(group)]
            # Forward on purpose: what the ERP played meanwhile is not theirs to read.
            await replay(
                pipeline.endpoints.kafka, group, topics, datetime.now(UTC), allow_forward=True
            )
            await pipeline.start(name)


@pytest.mark.parametrize("deployed", DEPLOYMENTS, ids=lambda d: d.name, indirect=True)
async def test_each_deployment_carries_deals_to_a_paid_invoice(
    deployed: tuple[Pipeline, Deployment],
) -> None:
    pipe, plan = deployed
    assert not set(plan.erp_stages) & set(pipe.workers)  # the ERP's stages run nowhere here
    leads = [lead_of(f"dep-{plan.name}") for _ in range(DEALS)]
    # The ERP connects as itself: what it does here, its ACLs allow (contracts/access.py).
    security = None
    if pipe.endpoints.secrets is not None:
        security = KafkaSecurity().as_principal(
            ERP_PRINCIPAL, password_file(pipe.endpoints.secrets, "kafka", ERP_PRINCIPAL)
        )
    async with ErpPlayer(
        pipe.endpoints.kafka, plan, client_options=kafka_clients.client_options(security)
    ) as erp:
        await publish(pipe.endpoints.kafka, [record_of("lead.captured", lead) for lead in leads])
        for lead in leads:
            await _play_people(pipe, plan, lead.deal_id)
        for lead in leads:
            await pipe.events(lead.deal_id, "invoice.paid", timeout_s=90)

    for lead in leads:
        journey = _journey(pipe, lead.deal_id)
        for event_type, by in JOURNEY.items():
            expected = stage(by).service if by in plan.runs else PRODUCER
            producers = {env.producer for env in journey.get(event_type, [])}
            assert producers == {expected}, (plan.name, lead.deal_id, event_type, producers)
        # What the ERP books and bills from: the customer as the quote named it, the goods
        # going where the accept said, to the cent.
        (accepted,) = journey["quote.accepted"]
        (order,) = journey["order.confirmed"]
        assert order.payload.customer_details == accepted.payload.customer_details
        assert order.payload.totals == accepted.payload.totals
        if "quote" in plan.runs:
            assert order.payload.customer_details.ship_to == WAREHOUSE
            assert order.payload.requested_delivery_date == date(2027, 1, 15)
        (invoice,) = journey["invoice.posted"]
        assert invoice.payload.totals.grand_total == order.payload.totals.grand_total
    if plan.erp_stages:
        assert erp.published, plan.name


async def _play_people(pipe: Pipeline, plan: Deployment, deal: str) -> None:
    """The customer and the accounts team, where salesflow runs their stage: accept the quote
    (delivered elsewhere, by a date), pay the invoice."""
    if "quote" in plan.runs:
        (issued,) = await pipe.events(deal, "quote.issued")
        accept = AcceptQuote(
            quote_id=issued.payload.quote_id,
            accepted_by="buyer",
            customer_po=f"PO-{deal}",
            ship_to=WAREHOUSE,
            requested_delivery_date=date(2027, 1, 15),
            shipping_method="freight",
        )
        await publish(
            pipe.endpoints.kafka,
            [record_of("quote.commands", command(accept, "quote.accept", deal))],
        )
    if "invoice" in plan.runs:
        (invoice,) = await pipe.events(deal, "invoice.posted", timeout_s=90)
        await pay(pipe, deal, invoice, invoice.payload.totals.grand_total, 1)


def _journey(pipe: Pipeline, deal: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for topic, env in pipe.all_events(deal):
        if env is not None and topic == topic_for_event(env.event_type).name:
            out.setdefault(env.event_type, []).append(env)
    return out
