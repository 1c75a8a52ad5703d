"""What quote_svc's decisions return: the changed aggregates plus what happened (`Opened`,
`Revised`, `Accepted`, ...), or a `Refusal` saying why not (a subject's own outcomes, such as
`opportunities.QuoteCreated`, stay with it).

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from services.quote_svc.domain.model import (
    BillingTerms,
    CloseStatus,
    Opportunity,
    Quote,
    QuoteState,
    RejectReason,
)
from services.quote_svc.domain.parties import DeliveryTerms


@dataclass(frozen=True, slots=True)
class Opened:
    """A new opportunity with its first quote revision (issued if it could be activated)."""

    opportunity: Opportunity
    quote: Quote

    @property
    def issued(self) -> bool:
        """Only an Active quote is announced: a Draft was never the customer's to see."""
        return self.quote.state is QuoteState.ACTIVE


@dataclass(frozen=True, slots=True)
class AlreadyOpen:
    """A qualified lead whose opportunity exists: a redelivery, nothing to do."""

    opportunity_id: UUID


@dataclass(frozen=True, slots=True)
class Revised:
    """Revision + 1 of a quote: issued (Active), or a Draft when auto-activation is off."""

    opportunity: Opportunity
    previous: Quote
    quote: Quote
    # Only a quote the customer has seen (Active) is announced as closed; a superseded Draft
    # was never published, so its closing is recorded but not announced.
    announce_previous: bool

    @property
    def closing_detail(self) -> str:
        return f"superseded by revision {self.quote.revision}"


@dataclass(frozen=True, slots=True)
class Accepted:
    opportunity: Opportunity
    quote: Quote
    # The billing terms of the acceptance, for `quote.accepted` (the quote does not keep them).
    terms: BillingTerms
    # Likewise the delivery date and shipping method asked for (the ship-to is on the quote).
    delivery: DeliveryTerms = field(default_factory=DeliveryTerms)
    # The opportunity's other open quotes, closed Canceled: a won deal offers nothing more.
    others: tuple[Quote, ...] = ()


@dataclass(frozen=True, slots=True)
class Expired:
    """An acceptance came too late: the quote closes as Expired and the command is refused."""

    quote: Quote
    refusal: Refusal


@dataclass(frozen=True, slots=True)
class Rejected:
    """The Active quote closed Lost or Canceled; the opportunity Lost with it when no other
    quote of it remains open (`opportunity_closed`)."""

    opportunity: Opportunity
    quote: Quote
    reason: RejectReason
    detail: str
    opportunity_closed: bool = True

    @property
    def status(self) -> CloseStatus:
        return CloseStatus(self.reason.value)


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    # Set only when the refused command is not the message being handled.
    command_event_id: UUID | None = None


Decision = Opened | AlreadyOpen | Revised | Accepted | Expired | Rejected | Refusal
