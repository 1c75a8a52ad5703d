"""order_svc: owns sales orders, from the accepted quote to fulfilment, cancellation, invoicing.

Consumes `quote.accepted` (from quote_svc or any system publishing the same contract): creates
exactly one order per quote, prices locked from the quote and checked to the cent, numbered
`SO-<year>-<seq>`, and submits it at once (`order.confirmed`, everything an ERP needs).
Consumes `order.commands` (CancelOrder: allowed until shipped or until a payment was seen for one
of the order's invoices; RecordFulfilment: cumulative per line, idempotent per shipment ref),
`invoice.posted` (marks the order Invoiced; no event) and `invoice.paid` (found by deal and
invoice id, marks that invoice paid on the order, which blocks cancellation; no event).
Publishes `order.confirmed`, `order.fulfilled`, `order.cancelled`, and `order.rejected` for an
accepted quote or a command that does not fit. State: schema `order_svc` (orders,
order_counters, inbox, outbox).
"""
