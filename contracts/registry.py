"""Which payload class validates which event type: the lookup ``decode`` relies on.

Listed by hand rather than discovered by walking ``Payload.__subclasses__()``: an event type on the
wire is a public promise, so adding one should be a visible line in a review, and import order
must not decide whether a type is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from contracts.accounts import (
    AccountUpdated,
    ContactErased,
    ContactUpdated,
    LinkErpCustomer,
    UpsertAccount,
    UpsertContact,
)
from contracts.alerts import ErpInvoiceHandoffStale, OrderHandoffStale
from contracts.base import Payload
from contracts.billing import (
    ApplyCredit,
    CreditApplied,
    CreditInvoice,
    InvoiceCredited,
    RecordRefund,
    RefundDue,
    RefundRecorded,
    RegisterExternalCreditNote,
)
from contracts.catalog import PriceListItemUpserted, VolumeDiscountUpserted
from contracts.dunning import InvoiceDunning, InvoiceOverdue
from contracts.errors import UnknownEventType
from contracts.invoices import (
    CancelInvoice,
    InvoiceCancelled,
    InvoicePaid,
    InvoicePosted,
    RecordPayment,
    RegisterExternalInvoice,
)
from contracts.leads import (
    DisqualifyLead,
    LeadCaptured,
    LeadDisqualified,
    LeadOpened,
    LeadQualified,
    LeadReactivated,
    LeadUpdated,
    QualifyLead,
    ReactivateLead,
    UpdateLead,
)
from contracts.opportunities import (
    ActivateQuote,
    CloseOpportunity,
    CreateQuote,
    OpportunityOpened,
    OpportunityUpdated,
    QuoteDrafted,
    ReopenOpportunity,
    UpdateOpportunity,
)
from contracts.orders import (
    AcknowledgeOrder,
    CancelOrder,
    OrderAcknowledged,
    OrderCancelled,
    OrderConfirmed,
    OrderFulfilled,
    OrderInvoiced,
    OrderRefused,
    OrderResubmitted,
    RecordFulfilment,
    RefuseOrder,
    ResubmitOrder,
)
from contracts.quotes import (
    AcceptQuote,
    OpportunityClosed,
    QuoteAccepted,
    QuoteClosed,
    QuoteIssued,
    RejectQuote,
    ReviseQuote,
)
from contracts.rates import ExchangeRatePublished
from contracts.rejections import CommandRejected
from contracts.ticks import TimeTicked

__all__ = ["EVENT_TYPES", "PAYLOAD_TYPES", "payload_type"]

PAYLOAD_TYPES: Final[tuple[type[Payload], ...]] = (
    # leads
    LeadCaptured,
    QualifyLead,
    DisqualifyLead,
    ReactivateLead,
    LeadQualified,
    LeadDisqualified,
    UpdateLead,
    LeadOpened,
    LeadUpdated,
    LeadReactivated,
    # accounts and contacts (master data)
    UpsertAccount,
    UpsertContact,
    LinkErpCustomer,
    AccountUpdated,
    ContactErased,
    ContactUpdated,
    # catalog
    PriceListItemUpserted,
    VolumeDiscountUpserted,
    ExchangeRatePublished,
    # opportunities and quotes
    ReviseQuote,
    AcceptQuote,
    RejectQuote,
    QuoteIssued,
    QuoteAccepted,
    QuoteClosed,
    OpportunityClosed,
    UpdateOpportunity,
    CloseOpportunity,
    ReopenOpportunity,
    CreateQuote,
    ActivateQuote,
    OpportunityOpened,
    OpportunityUpdated,
    QuoteDrafted,
    # orders
    CancelOrder,
    RecordFulfilment,
    OrderConfirmed,
    OrderFulfilled,
    OrderCancelled,
    OrderInvoiced,
    AcknowledgeOrder,
    RefuseOrder,
    ResubmitOrder,
    OrderAcknowledged,
    OrderRefused,
    OrderResubmitted,
    # invoices
    RegisterExternalInvoice,
    RecordPayment,
    CancelInvoice,
    InvoicePosted,
    InvoicePaid,
    InvoiceCancelled,
    InvoiceOverdue,
    InvoiceDunning,
    # credit notes, customer credit, refunds
    CreditInvoice,
    RegisterExternalCreditNote,
    RecordRefund,
    ApplyCredit,
    InvoiceCredited,
    RefundDue,
    RefundRecorded,
    CreditApplied,
    # time, and the stale hand-offs it finds
    TimeTicked,
    OrderHandoffStale,
    ErpInvoiceHandoffStale,
    # answers to refused commands, one class under four event types
    CommandRejected,
)


def _index(payload_types: Iterable[type[Payload]]) -> dict[str, type[Payload]]:
    index: dict[str, type[Payload]] = {}
    for cls in payload_types:
        if not cls.EVENT_TYPES:
            raise TypeError(f"{cls.__name__} declares no EVENT_TYPE(S)")
        for event_type in cls.EVENT_TYPES:
            if event_type in index:
                raise TypeError(
                    f"{event_type!r} is claimed by {index[event_type].__name__} and {cls.__name__}"
                )
            index[event_type] = cls
    return index


EVENT_TYPES: Final[Mapping[str, type[Payload]]] = MappingProxyType(_index(PAYLOAD_TYPES))


def payload_type(event_type: str) -> type[Payload]:
    """The payload class of ``event_type``; raises ``UnknownEventType``."""
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None
