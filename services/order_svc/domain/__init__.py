"""The sales order: created from an accepted quote, fulfilled, canceled, invoiced.

Pure: standard library and `contracts.money` only; time, ids and the number counter are passed in.
Decisions take values and return the new order plus what happened (`Confirmed`, `Fulfilled`,
`Cancelled`, `InvoiceLinked`, `InvoiceMarkedPaid`), `Ignored` for an event that concerns no order
of ours, or a `Refusal` that says why a command (or an accepted quote) does not fit. Refusals are
answers, not errors. Callers import this package and use `domain.<name>`; the split into values
(`model`) and decisions (`decisions`) is only for size.

States (D365): an order is created Active and submitted to fulfilment in the same decision, so
Active is never stored. Submitted -> Fulfilled (partial | complete) | Canceled | Invoiced;
Invoiced -> Canceled while no payment was seen for any of its invoices.
"""

from services.order_svc.domain.decisions import (
    cancel,
    cancellation_reason,
    confirm_order,
    link_invoice,
    mark_invoice_paid,
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
    InvoiceMarkedPaid,
    InvoiceRef,
    Numbering,
    Order,
    OrderCounter,
    OrderLine,
    OrderPolicy,
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
    "InvoiceMarkedPaid",
    "InvoiceRef",
    "Numbering",
    "Order",
    "OrderCounter",
    "OrderLine",
    "OrderPolicy",
    "OrderState",
    "QuoteRef",
    "Refusal",
    "cancel",
    "cancellation_reason",
    "confirm_order",
    "link_invoice",
    "mark_invoice_paid",
    "order_id_for",
    "place_order",
    "record_fulfilment",
]
