"""What invoice_svc's decisions answer besides what they book (`books.Billing`): a `Refusal`
saying why a command does not fit, or `Unchanged` for what was applied already. A subject's own
outcomes (`billing.Held`, `remittances.PaymentHeld`, `dunning.FollowUp`) stay with it.

Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    # The refused command's event id when it is not the message being handled (a held ERP
    # invoice refused when its order finally arrives).
    command_event_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A redelivered or already applied fact: nothing to change, nothing to publish."""

    why: str
