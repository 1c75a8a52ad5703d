"""The in-memory book one batch works on: what it loaded and what it changed.

Handlers decide against it; unit tests use it as the fake store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from contracts.leads import LeadQualified
from services.quote_svc.domain import (
    Account,
    ExchangeRate,
    Opportunity,
    PriceItem,
    Quote,
    Rates,
    VolumeList,
    format_quote_number,
)
from shared.messages import Incoming


@dataclass(frozen=True, slots=True)
class Touches:
    """The keys one batch's messages touch, so `load` can fetch them in a few queries."""

    opportunity_ids: frozenset[UUID] = frozenset()
    lead_ids: frozenset[str] = frozenset()
    quote_ids: frozenset[UUID] = frozenset()
    price_list_ids: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    # Accounts read or snapshotted (those of the opportunities loaded are added by the store).
    account_ids: frozenset[UUID] = frozenset()
    counter_year: int | None = None
    # A tick's date: the Active quotes valid only until before it are loaded (with their
    # opportunities) to expire them.
    expiring_as_of: date | None = None
    # The latest rate per pair on or before this day is loaded.
    rates_as_of: date | None = None
    # Rates published in the batch: the qualifications waiting for one of these pairs.
    waiting_pairs: frozenset[tuple[str, str]] = frozenset()


@dataclass
class QuoteBook:
    """The opportunities, quotes, prices and counters one batch works on, and what it changed."""

    opportunities: dict[UUID, Opportunity] = field(default_factory=dict)
    quotes: dict[UUID, Quote] = field(default_factory=dict)
    prices: dict[str, dict[str, PriceItem]] = field(default_factory=dict)
    volumes: dict[str, dict[str, VolumeList]] = field(default_factory=dict)
    # year -> the last quote number given out that year
    counters: dict[int, int] = field(default_factory=dict)
    by_lead: dict[str, UUID] = field(default_factory=dict)
    accounts: dict[UUID, Account] = field(default_factory=dict)
    rates: Rates = field(default_factory=Rates)
    # lead id -> (the lead.qualified waiting for a rate, the pair it waits for)
    waiting: dict[str, tuple[Incoming[LeadQualified], tuple[str, str], datetime]] = field(
        default_factory=dict
    )
    changed_rates: list[ExchangeRate] = field(default_factory=list)
    new_waiting: set[str] = field(default_factory=set)
    released_waiting: set[str] = field(default_factory=set)
    # Rows read from the database are updated; the others are inserted (see QuoteStore.save).
    stored_opportunities: set[UUID] = field(default_factory=set)
    stored_quotes: set[UUID] = field(default_factory=set)
    changed_opportunities: dict[UUID, Opportunity] = field(default_factory=dict)
    changed_quotes: dict[UUID, Quote] = field(default_factory=dict)
    changed_prices: dict[tuple[str, str], PriceItem] = field(default_factory=dict)
    changed_volumes: dict[tuple[str, str], VolumeList] = field(default_factory=dict)
    changed_counters: set[int] = field(default_factory=set)
    changed_accounts: dict[UUID, Account] = field(default_factory=dict)

    def opportunity(self, opportunity_id: UUID) -> Opportunity | None:
        return self.opportunities.get(opportunity_id)

    def opportunity_of_lead(self, lead_id: str) -> Opportunity | None:
        opportunity_id = self.by_lead.get(lead_id)
        return self.opportunities.get(opportunity_id) if opportunity_id else None

    def quote(self, quote_id: UUID) -> Quote | None:
        return self.quotes.get(quote_id)

    def revisions(self, opportunity_id: UUID) -> list[Quote]:
        return [q for q in self.quotes.values() if q.opportunity_id == opportunity_id]

    def catalog(self, price_list_id: str) -> Mapping[str, PriceItem]:
        return self.prices.get(price_list_id, {})

    def volume_lists(self, price_list_id: str) -> Mapping[str, VolumeList]:
        return self.volumes.get(price_list_id, {})

    def put_volume(self, listed: VolumeList) -> None:
        # Last write wins, like the prices (one key, one partition on the compacted topic).
        self.volumes.setdefault(listed.price_list_id, {})[listed.sku] = listed
        self.changed_volumes[(listed.price_list_id, listed.sku)] = listed

    def put_rate(self, rate: ExchangeRate) -> None:
        self.rates.add(rate)
        self.changed_rates.append(rate)

    def hold_qualification(
        self, msg: Incoming[LeadQualified], pair: tuple[str, str], now: datetime
    ) -> None:
        lead_id = msg.payload.lead_id
        if lead_id not in self.waiting:
            self.waiting[lead_id] = (msg, pair, now)
            self.new_waiting.add(lead_id)

    def waiting_for(self, from_currency: str, to_currency: str) -> list[Incoming[LeadQualified]]:
        """The qualifications waiting for a rate between these currencies (either way round)."""
        pairs = {(from_currency, to_currency), (to_currency, from_currency)}
        return [
            msg
            for lead_id, (msg, pair, _) in sorted(self.waiting.items())
            if pair in pairs and lead_id not in self.released_waiting
        ]

    def release_qualification(self, lead_id: str) -> None:
        self.released_waiting.add(lead_id)

    def account(self, account_id: UUID) -> Account | None:
        return self.accounts.get(account_id)

    def put_account(self, account: Account) -> None:
        self.accounts[account.account_id] = account
        self.changed_accounts[account.account_id] = account

    def put_price(self, item: PriceItem) -> None:
        # Last write wins: the compacted topic keeps per-item order (one key, one partition).
        self.prices.setdefault(item.price_list_id, {})[item.sku] = item
        self.changed_prices[(item.price_list_id, item.sku)] = item

    def peek_quote_number(self, year: int) -> str:
        return format_quote_number(year, self.counters.get(year, 0) + 1)

    def take_quote_number(self, year: int) -> str:
        number = self.peek_quote_number(year)
        self.counters[year] = self.counters.get(year, 0) + 1
        self.changed_counters.add(year)
        return number

    def add_stored(self, opportunity: Opportunity) -> None:
        self.opportunities[opportunity.opportunity_id] = opportunity
        self.by_lead[opportunity.lead_id] = opportunity.opportunity_id
        self.stored_opportunities.add(opportunity.opportunity_id)

    def add_stored_quote(self, quote: Quote) -> None:
        self.quotes[quote.quote_id] = quote
        self.stored_quotes.add(quote.quote_id)

    def put_opportunity(self, opportunity: Opportunity) -> None:
        self.opportunities[opportunity.opportunity_id] = opportunity
        self.by_lead[opportunity.lead_id] = opportunity.opportunity_id
        self.changed_opportunities[opportunity.opportunity_id] = opportunity

    def put_quote(self, quote: Quote) -> None:
        self.quotes[quote.quote_id] = quote
        self.changed_quotes[quote.quote_id] = quote
