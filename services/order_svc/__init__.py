"""order_svc: owns sales orders, from the accepted quote to fulfilment, cancellation, invoicing.

Consumes `quote.accepted` (from quote_svc or any system publishing the same contract): creates
exactly one order per quote, prices locked from the quote and checked to the cent, numbered
`SO-<year>-<seq>`, billing terms (invoicing policy, down payment rate) kept as the acceptance
gave them, customer details (sold-to, bill-to, ship-to, tax id, ERP customer number), requested
delivery date and shipping method as the quote carried them, and submits it at once
(`order.confirmed`, everything an ERP needs).
Consumes `order.commands` (CancelOrder: the whole order when nothing shipped, the unshipped
remainder of a partly shipped one, which closes it, refused `already_fulfilled` once every line
shipped in full; billing never holds it back. RecordFulfilment: cumulative per line, idempotent
per shipment ref; refused `refused_by_erp` while the ERP's refusal is pending. The ERP's
answers: AcknowledgeOrder records its order number, Acknowledged, the same number again a no-op
and another one refused `erp_number_differs`, one another order carries `erp_number_in_use`
(a partial UNIQUE index behind it); RefuseOrder makes it RefusedByErp with the reason
(refused `already_invoiced` once an invoice was posted for it: the ERP cancels it instead);
ResubmitOrder, only for a refused order, applies the corrections and puts it back to Submitted.
The first two may name the order by its number instead of its id), `invoice.posted` and
`invoice.credited` (the quantity invoiced per line net of credit notes, each document once by
its id; not / partly / fully invoiced, Invoiced once fully), and `invoice.paid` (found by deal
and invoice id, marks that invoice paid on the order; no event).
Publishes `order.confirmed`, `order.fulfilled`, `order.cancelled` (every line with what shipped),
`order.invoiced` (whenever the invoiced quantities or the billing status change),
`order.acknowledged`, `order.refused`, `order.resubmitted` (the whole document again), and
`order.rejected` for an accepted quote or a command that does not fit. State: schema `order_svc`
(orders, order_counters, inbox, outbox).
"""
