"""What order_svc holds about a person, erased: the contact copied onto their orders (the
orders keep their numbers, lines and amounts)."""

from __future__ import annotations

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.erasure import ERASED_CONTACT, Erased, ErasureRequest

_ORDERS = text(
    "UPDATE order_svc.orders SET contact = CAST(:erased AS jsonb) WHERE contact_id = ANY(:ids)"
)


async def erase(conn: AsyncConnection, request: ErasureRequest) -> Erased:
    done = await conn.execute(
        _ORDERS,
        {"erased": orjson.dumps(ERASED_CONTACT).decode(), "ids": list(request.contact_ids)},
    )
    return Erased({"order_svc.orders": done.rowcount})
