"""quote_svc: will own opportunities, price lists and quotes (not built yet; see issue 3).

Will consume `lead.qualified`, `catalog.prices`, `quote.commands`; publish `quote.issued`,
`quote.accepted`, `quote.closed`, `opportunity.closed`, `quote.rejected`.
"""
