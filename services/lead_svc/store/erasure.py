"""What lead_svc holds about a person, erased: the contact record and every lead of theirs.

Found by contact id and by email (a lead not yet qualified has no contact). The rows stay, with
their ids, states and amounts; names read `ERASED`, the email, phone, job title and notes are
gone, and so are the folded keys duplicate detection used (a new lead of the same person is
then a new person to salesflow).
"""

from __future__ import annotations

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.accounts import ERASED
from services.lead_svc.domain.parties import fold_email
from shared.erasure import ERASED_CONTACT, Erased, ErasureRequest

_ERASED_PROFILE = orjson.dumps({**ERASED_CONTACT, "notes": None}).decode()

_FIND = text(
    "SELECT contact_id FROM lead_svc.contacts WHERE email_key = :email_key"
    " UNION SELECT contact_id FROM lead_svc.leads"
    " WHERE email_key = :email_key AND contact_id IS NOT NULL"
)
_LEADS = text(
    "UPDATE lead_svc.leads SET profile = profile || CAST(:erased AS jsonb),"
    " email_key = NULL, name_key = NULL"
    " WHERE contact_id = ANY(:ids) OR (CAST(:email_key AS text) IS NOT NULL"
    " AND email_key = :email_key)"
)
_CONTACTS = text(
    "UPDATE lead_svc.contacts SET full_name = :marker, first_name = :marker,"
    " last_name = :marker, email = NULL, phone = NULL, job_title = NULL, email_key = NULL"
    " WHERE contact_id = ANY(:ids)"
)


async def erase(conn: AsyncConnection, request: ErasureRequest) -> Erased:
    email_key = fold_email(request.email)
    found = set(request.contact_ids)
    if email_key is not None:
        found |= {row.contact_id for row in await conn.execute(_FIND, {"email_key": email_key})}
    ids = list(found)
    leads = await conn.execute(
        _LEADS, {"erased": _ERASED_PROFILE, "ids": ids, "email_key": email_key}
    )
    contacts = await conn.execute(_CONTACTS, {"marker": ERASED, "ids": ids})
    return Erased(
        {"lead_svc.leads": leads.rowcount, "lead_svc.contacts": contacts.rowcount},
        frozenset(found),
    )
