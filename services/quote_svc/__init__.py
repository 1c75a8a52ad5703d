"""quote_svc: owns opportunities, price lists and quotes.

Consumes `catalog.prices` (PriceListItemUpserted from the product master: a local copy of every
price list, last write wins), `account.updated` (lead_svc's master data of accounts: a local
copy, newest version wins), `lead.qualified` (opens the opportunity, keeping the lead's source,
campaign and notes, and drafts quote revision 1 from the product interests, priced from the
configured price list; issued at once when fully priced; the account details it carries fill in
an account no `account.updated` was read for yet) and `quote.commands` (ReviseQuote,
AcceptQuote, RejectQuote).
Publishes `quote.issued` (with the customer details, a snapshot of the account taken when the
revision is issued), `quote.accepted` (the whole document order_svc needs, with the billing
terms the acceptance named: invoicing policy and down payment rate; and its delivery terms:
requested date and shipping method, not stored here, the order keeps them, and a ship-to that
replaces the snapshot's on the won quote), `quote.closed`, `opportunity.closed`, and
`quote.rejected` for commands that do not fit the quote's state (or name a down payment rate
under another invoicing policy).
State: schema `quote_svc` (opportunities, quotes, price_list_items, accounts, quote_counters,
inbox, outbox).

Choices: quote numbers ("Q-<year>-<00001>") come from a gap-free per-year counter and are taken
only when an opportunity opens, so a redelivered `lead.qualified` burns none; every revision of
a quote keeps its number.
"""
