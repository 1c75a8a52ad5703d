"""What invoice_svc holds about a person: nothing to erase.

Invoices name the account (the customer snapshot: sold-to, addresses, tax id), never a contact:
they are the company's accounting records and keep what they say. A person's own account (a
consumer) is named after them; erasing it is the account's erasure, which accounting law keeps
for its retention period, and not this command's (README, "Erasure")."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.erasure import Erased, ErasureRequest


async def erase(conn: AsyncConnection, request: ErasureRequest) -> Erased:
    return Erased({})
