"""order_svc: owns sales orders, from the accepted quote to fulfilment, cancellation, invoicing.

Consumes `quote.accepted` (from quote_svc or any system publishing the same contract): creates
exactly one order per quote, prices locked from the quote and checked to the cent, numbered
`SO-<year>-<seq>`, billing terms (invoicing policy, down payment rate) kept as the acceptance
gave them, and submits it at once (`order.confirmed`, everything an ERP needs).
Consumes `order.commands` (CancelOrder: the whole order when nothing shipped, the unshipped
remainder of a partly shipped one, which closes it, refused `already_fulfilled` once every line
shipped in full; billing never holds it back. RecordFulfilment: cumulative per line, idempotent
per shipment ref), `invoice.posted` and `invoice.credited` (the quantity invoiced per line net
of credit notes, each document once by its id; not / partly / fully invoiced, Invoiced once
fully), and `invoice.paid` (found by deal and invoice id, marks that invoice paid on the order;
no event).
Publishes `order.confirmed`, `order.fulfilled`, `order.cancelled` (every line with what shipped),
`order.invoiced` (whenever the invoiced quantities or the billing status change), and
`order.rejected` for an accepted quote or a command that does not fit. State: schema `order_svc`
(orders, order_counters, inbox, outbox).
"""
