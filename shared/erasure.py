"""Erasing a person's data from every service's state, each service under its own role.

Each service says what it holds about a contact in `services/<service>/store/erasure.py`: one
`erase(conn, request)` that replaces the person's name with `contracts.accounts.ERASED`, drops
their email, phone, job title and notes, and keeps every id, number and amount (accounting must).
`erase_everywhere` runs them in stage order in ONE transaction, switching to each service's role
(`SET LOCAL ROLE`) so a service's erasure can touch its own tables only, and passing on the
contacts an earlier one found (lead_svc finds them by email).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.accounts import ERASED
from shared.db import quote_ident

__all__ = ["ERASED_CONTACT", "Erased", "Eraser", "ErasureRequest", "erase_everywhere"]

# What an erased person's ContactInfo reads where a service keeps a copy (a valid ContactInfo,
# so documents made later from it still validate).
ERASED_CONTACT: Final[Mapping[str, Any]] = {
    "first_name": ERASED,
    "last_name": ERASED,
    "email": None,
    "phone": None,
    "job_title": None,
}


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """Whom to erase: contacts by id, and (lead_svc) whatever it holds under an email."""

    contact_ids: frozenset[UUID] = frozenset()
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Erased:
    """What one service rewrote (`schema.table` -> rows) and the contacts it found."""

    rows: Mapping[str, int] = field(default_factory=dict)
    contact_ids: frozenset[UUID] = frozenset()


Eraser = Callable[[AsyncConnection, ErasureRequest], Awaitable[Erased]]


async def erase_everywhere(
    conn: AsyncConnection, request: ErasureRequest, erasers: Sequence[tuple[str, Eraser]]
) -> tuple[ErasureRequest, dict[str, Erased]]:
    """Run every service's erasure as that service, in the caller's transaction."""
    done: dict[str, Erased] = {}
    for service, erase in erasers:
        await conn.execute(text(f"SET LOCAL ROLE {quote_ident(service)}"))
        erased = await erase(conn, request)
        await conn.execute(text("RESET ROLE"))
        request = replace(request, contact_ids=request.contact_ids | erased.contact_ids)
        done[service] = erased
    return request, done
