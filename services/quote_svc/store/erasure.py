"""What quote_svc holds about a person, erased: the contact copied onto their opportunities,
and the lead's notes kept with them (free text that may name them)."""

from __future__ import annotations

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.erasure import ERASED_CONTACT, Erased, ErasureRequest

_OPPORTUNITIES = text(
    "UPDATE quote_svc.opportunities SET contact = CAST(:erased AS jsonb), notes = NULL"
    " WHERE contact_id = ANY(:ids)"
)


async def erase(conn: AsyncConnection, request: ErasureRequest) -> Erased:
    done = await conn.execute(
        _OPPORTUNITIES,
        {"erased": orjson.dumps(ERASED_CONTACT).decode(), "ids": list(request.contact_ids)},
    )
    return Erased({"quote_svc.opportunities": done.rowcount})
