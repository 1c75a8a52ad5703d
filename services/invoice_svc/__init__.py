"""invoice_svc: will own invoices and payments, native or external mode (not built yet; issue 3).

Will consume `order.confirmed`, `order.cancelled`, `invoice.commands`; publish
`invoice.posted`, `invoice.paid`, `invoice.cancelled`, `invoice.rejected`.
"""
