"""The sales order: created from an accepted quote, fulfilled, canceled, invoiced.

Pure: standard library and `contracts.money` only; time, ids and the order number are passed in.
Decisions take values and return the new order plus what happened (`Confirmed`, `Fulfilled`,
`Cancelled`, `InvoiceLinked`), `Ignored` for an event that concerns no order of ours, or a
`Refusal` that says why a command (or an accepted quote) does not fit. Refusals are answers, not
errors.

States (D365): an order is created Active and submitted to fulfilment in the same decision, so
Active is never stored. Submitted -> Fulfilled (partial | complete) | Canceled | Invoiced.
"""

from services.order_svc.domain.decisions import (
    cancel,
    link_invoice,
    place_order,
    record_fulfilment,
)
from services.order_svc.domain.model import (
    ACCEPTED,
    CANCEL,
    RECORD_FULFILMENT,
    AcceptedQuote,
    Cancelled,
    Completeness,
    Confirmed,
    Contact,
    Customer,
    Decision,
    Fulfilled,
    Ignored,
    InvoiceLinked,
    InvoiceRef,
    Numbering,
    Order,
    OrderLine,
    OrderState,
    QuoteRef,
    Refusal,
    order_id_for,
)

__all__ = [
    "ACCEPTED",
    "CANCEL",
    "RECORD_FULFILMENT",
    "AcceptedQuote",
    "Cancelled",
    "Completeness",
    "Confirmed",
    "Contact",
    "Customer",
    "Decision",
    "Fulfilled",
    "Ignored",
    "InvoiceLinked",
    "InvoiceRef",
    "Numbering",
    "Order",
    "OrderLine",
    "OrderState",
    "QuoteRef",
    "Refusal",
    "cancel",
    "link_invoice",
    "order_id_for",
    "place_order",
    "record_fulfilment",
]
