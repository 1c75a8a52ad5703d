"""Currencies in quote_svc: the exchange rates the ERP published, the rate of a day, and the
price list of a currency. Pure: standard library and `contracts.money` only.

The rate of a day is the latest rate published for a day on or before it (a weekend uses
Friday's). A pair published only the other way round is inverted (12 decimals). The same
currency converts at 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

_PLACES = Decimal(1).scaleb(-12)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    from_currency: str
    to_currency: str
    valid_on: date
    rate: Decimal


@dataclass(frozen=True, slots=True)
class RateOfDay:
    """The rate used for a conversion, and the day it was published for."""

    rate: Decimal
    valid_on: date


class Rates:
    """The rates one batch loaded, by pair."""

    def __init__(self, rates: Iterable[ExchangeRate] = ()) -> None:
        self._by_pair: dict[tuple[str, str], list[ExchangeRate]] = {}
        for rate in rates:
            self.add(rate)

    def add(self, rate: ExchangeRate) -> None:
        found = self._by_pair.setdefault((rate.from_currency, rate.to_currency), [])
        found[:] = [r for r in found if r.valid_on != rate.valid_on] + [rate]
        found.sort(key=lambda r: r.valid_on)

    def of(self, from_currency: str, to_currency: str, day: date) -> RateOfDay | None:
        """The rate of `day` from one currency to another, or None when none is known."""
        if from_currency == to_currency:
            return RateOfDay(Decimal(1), day)
        direct = self._latest(from_currency, to_currency, day)
        if direct is not None:
            return RateOfDay(direct.rate, direct.valid_on)
        inverse = self._latest(to_currency, from_currency, day)
        if inverse is not None:
            return RateOfDay((Decimal(1) / inverse.rate).quantize(_PLACES), inverse.valid_on)
        return None

    def _latest(self, from_currency: str, to_currency: str, day: date) -> ExchangeRate | None:
        usable = [
            r for r in self._by_pair.get((from_currency, to_currency), ()) if r.valid_on <= day
        ]
        return usable[-1] if usable else None
