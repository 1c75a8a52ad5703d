"""One order per ERP order number, on real PostgreSQL (review of issue 11, finding 8).

Two acknowledgements giving one ERP number to two orders, on two partitions, are decided at the
same time: neither sees the other's uncommitted number, so `erp_number_in_use` passes in both.
The partial UNIQUE index fails the later commit; the runtime then replays that batch message
by message, and the replay refuses it `erp_number_in_use`. Driven through order_svc's
HandlerStage (what the batch runtime calls inside its transaction), two connections.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from contracts.envelope import Envelope, decode
from contracts.topics import topic_for_event
from services.order_svc.domain import OrderPolicy
from services.order_svc.handlers import HANDLERS, touches_of
from services.order_svc.store import OrderStore
from shared.messages import Incoming
from shared.stage import HandlerStage
from tests.support.infra import Endpoints
from tests.support.leads import new_run_id
from tests.support.orders import accepted, acknowledge

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)
STAGE = HandlerStage(HANDLERS, touches_of, OrderStore(), OrderPolicy())


def _incoming(envelope: Envelope[Any]) -> Incoming[Any]:
    return Incoming(envelope, topic_for_event(envelope.event_type).name, 0, 0)


async def _apply(conn: AsyncConnection, envelope: Envelope[Any]) -> list[Envelope[Any]]:
    out = await STAGE.apply(conn, [_incoming(envelope)], NOW)
    return [decode(o.payload or b"") for o in out]


async def test_a_concurrent_second_order_with_one_erp_number_fails_and_is_refused_on_replay(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    deals, erp_number = (f"erp-a-{run}", f"erp-b-{run}"), f"ERP-{run}"
    engine = create_async_engine(endpoints.database_url)
    try:
        orders = []
        for deal in deals:
            async with engine.begin() as conn:
                [confirmed] = await _apply(conn, accepted(deal))
            orders.append(confirmed.payload)
        first, second = (
            acknowledge(deal, erp_number, order_id=order.order_id)
            for deal, order in zip(deals, orders, strict=True)
        )
        async with engine.connect() as one, engine.connect() as two:
            # (SQLAlchemy's autobegin: each connection's first statement opens its transaction.)
            assert [e.event_type for e in await _apply(one, first)] == ["order.acknowledged"]
            # The second decides without seeing the first's number, and its write waits on
            # the index entry the first holds uncommitted.
            racing = asyncio.create_task(_apply(two, second))
            await asyncio.sleep(0.5)
            assert not racing.done()
            await one.commit()
            with pytest.raises(IntegrityError, match="uq_orders_erp_order_number"):
                await racing
            await two.rollback()
        # The runtime's replay of that message, in a transaction of its own.
        async with engine.begin() as conn:
            [rejected] = await _apply(conn, second)
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT deal_id, erp_order_number FROM order_svc.orders "
                    "WHERE deal_id = ANY(:d) ORDER BY deal_id"
                ),
                {"d": list(deals)},
            )
            numbers = [tuple(row) for row in rows]
    finally:
        await engine.dispose()

    assert rejected.event_type == "order.rejected"
    assert rejected.payload.reason_code == "erp_number_in_use"
    assert numbers == [(deals[0], erp_number), (deals[1], None)]
