"""invoice_svc: owns invoices and the payments against them, in one of two modes.

native (default): posts exactly one invoice per `order.confirmed`, numbered from a gap-free
per-year sequence, lines and totals equal to the order's to the cent. external: the accounting
system bills; `order.confirmed` is only recorded, and `invoice.register_external` links the ERP's
invoice to its order, named by salesflow's order id or number or by the ERP's own order number
(held under the names it gave until the order, or for an ERP number its acknowledgement,
arrives if it raced ahead on its own topic).
Consumes `order.confirmed` (its copy of the order keeps the customer details and customer PO,
printed on every invoice of the order), `order.acknowledged` (the ERP's order number),
`order.cancelled` (voids the order's unpaid invoice) and `invoice.commands`
(RegisterExternalInvoice, RecordPayment, CancelInvoice, ...). A payment may name an order (by
salesflow's or the ERP's number) instead of invoices: it pays the order's open standard
invoices, oldest due first, and money beyond them follows the overpayment rules. A payment read
before what it names (the order, its acknowledgement, its first ERP invoice, a held ERP
invoice) is held under those names and decided when they arrive, never refused on a guess.
Publishes `invoice.posted`, `invoice.paid` (running totals), `invoice.cancelled`, and
`invoice.rejected` for commands that do not fit. State: schema `invoice_svc` (orders, invoices,
payments, pending_external_invoices, held_payments, acknowledged_ahead, invoice_counters,
inbox, outbox, ...).

Choices: the same ERP invoice registered again is a silent no-op (the contract says so, and the
ERP's retries must not read as failures); the same payment id again is a no-op too. A cancelled
order's paid or partly paid invoice is kept (logged as a warning): undoing received money is a
credit note in accounting, not a status change here.
"""
