"""order_svc: will own sales orders (not built yet; see issue 3).

Will consume `quote.accepted`, `order.commands`, `invoice.posted`; publish `order.confirmed`,
`order.fulfilled`, `order.cancelled`, `order.rejected`.
"""
