"""quote_svc: owns opportunities, price lists and quotes.

Consumes `catalog.prices` (PriceListItemUpserted from the product master: a local copy of every
price list, last write wins), `lead.qualified` (opens the opportunity and drafts quote revision 1
from the product interests, priced from the configured price list; issued at once when fully
priced) and `quote.commands` (ReviseQuote, AcceptQuote, RejectQuote).
Publishes `quote.issued`, `quote.accepted` (the whole document order_svc needs, with the billing
terms the acceptance named: invoicing policy and down payment rate, not stored here, the order
keeps them), `quote.closed`, `opportunity.closed`, and `quote.rejected` for commands that do not
fit the quote's state (or name a down payment rate under another invoicing policy).
State: schema `quote_svc` (opportunities, quotes, price_list_items, quote_counters, inbox, outbox).

Choices: quote numbers ("Q-<year>-<00001>") come from a gap-free per-year counter and are taken
only when an opportunity opens, so a redelivered `lead.qualified` burns none; every revision of
a quote keeps its number.
"""
