"""Money and line pricing: the rounding rules every stage must apply identically.

Stdlib only on purpose: the pure domain modules of the services import this module, and they may
import nothing but the standard library (architecture rule 1). Keep pydantic out of here.

The totals of a quote, the order made from it and the invoice made from that order must be equal
to the cent, so there is exactly one implementation of the pricing rule and it lives here:
base = round(quantity x unit_price); discount = round(discount_amount); net = base - discount;
tax = round(net x tax_rate); total = net + tax; document totals are sums of the rounded lines.

Billing a line in pieces (partial invoices, credit notes for some units) follows one more rule,
also here: a piece is priced like a line of its own (its share of the discount rounded), except
the piece that completes the line, which takes what is left of each amount, so that the pieces
of a line add up to the line to the cent. An amount spread over tax rates (a down payment, a
credit of a sum) goes to each rate in proportion, the last rate taking what is left.

Discounts (`line_discount`, `allocate`) end as each line's one `discount_amount`, so everything
above holds for them unchanged:
- a line's rates (its own discount rate and the volume discount rate of its quantity tier) add
  up, are taken of the line's base amount and rounded ONCE, half-up, to the minor unit; a
  discount amount given for the line is added after. Never more than the base amount.
- a document-level discount (a rate of the lines' net sum, rounded once the same way, or an
  amount) is allocated to the lines in proportion to their nets: each share rounded down to the
  minor unit, the cents left over going one each to the lines with the largest remainders (the
  lower line number first on a tie). The shares add up to the document discount to the cent,
  and tax is then taken of each line's net as always.
So a quote, the order made from it, its invoices and credit notes, which all carry the lines'
amounts, total the same to the cent.

Currencies (`to_base`, `convert`): a document is priced in its own currency; its base-currency
amounts are each total times the exchange rate (base units per unit of the document's
currency), rounded half-up to the base currency's minor unit, each total on its own (as D365's
`*_base` fields). The rate is the one of the day the quote was issued, kept by the order, its
invoices and credit notes. A lead's budget in another currency is converted the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from types import MappingProxyType
from typing import Final

__all__ = [
    "FRACTION_DIGITS",
    "INTEGER_DIGITS",
    "MAX_QUANTITY",
    "MINOR_UNITS",
    "AmountOutOfRange",
    "CurrencyMismatch",
    "DocumentTotals",
    "InvalidLine",
    "LineAmounts",
    "Money",
    "MoneyError",
    "UnknownCurrency",
    "add_amounts",
    "allocate",
    "convert",
    "line_discount",
    "minor_unit",
    "piece_of_line",
    "price_line",
    "round_money",
    "spread_over_rates",
    "subtract_amounts",
    "sum_totals",
    "to_base",
    "zero_amounts",
]

# ISO 4217 minor units. Only currencies listed here can appear on the wire: an unknown code is
# refused rather than guessed at 2 decimals, because a wrong exponent silently misprices JPY or KWD.
MINOR_UNITS: Final[Mapping[str, int]] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN",
                "CZK", "HUF", "RON", "INR", "CNY", "HKD", "SGD", "BRL", "MXN", "ZAR", "TRY",
                "ILS", "AED", "SAR",
            ),
            2,
        ),
        **dict.fromkeys(("JPY", "KRW", "ISK", "CLP", "VND"), 0),
        **dict.fromkeys(("KWD", "BHD", "JOD", "OMR", "TND", "IQD", "LYD"), 3),
    }
)  # fmt: skip

# A private context so results never depend on whatever the calling thread did to the default
# decimal context (precision, traps). 38 digits matches PostgreSQL NUMERIC(38, x) columns.
_CONTEXT: Final = Context(prec=38, rounding=ROUND_HALF_UP)

# The decimals of every contract take at most INTEGER_DIGITS digits before the point and
# FRACTION_DIGITS after (contracts.base builds its patterns from these). An amount salesflow
# computes beyond that could not be published, so pricing refuses it (`AmountOutOfRange`) rather
# than fail later on the way out.
INTEGER_DIGITS: Final = 20
FRACTION_DIGITS: Final = 12
# The largest quantity of one line, declared once for every stage: lead_svc refuses a lead that
# asks for more, and `price_line` refuses to price more, so a quantity one stage accepts is one
# every later stage can price (a billion units: beyond any real order, far below the digits
# above; 10^20 units at any price overflowed the totals and dead-lettered in quote_svc).
MAX_QUANTITY: Final = Decimal(10) ** 9


class MoneyError(ValueError):
    """Base of the money rule violations."""


class UnknownCurrency(MoneyError):  # noqa: N818 - the domain's word; "Error" adds nothing
    """The code is not in the ISO 4217 table salesflow supports."""


class CurrencyMismatch(MoneyError):  # noqa: N818 - the domain's word; "Error" adds nothing
    """Two amounts of different currencies were combined."""


class InvalidLine(MoneyError):  # noqa: N818 - the domain's word; "Error" adds nothing
    """A document line cannot be priced (e.g. the discount exceeds the line's base amount)."""


class AmountOutOfRange(InvalidLine):
    """An amount too large for the contracts' decimals (or a quantity above MAX_QUANTITY)."""


def minor_unit(currency: str) -> int:
    """Number of decimals of ``currency`` (2 for EUR, 0 for JPY, 3 for KWD)."""
    try:
        return MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"unknown currency {currency!r}") from None


@functools.cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def _as_decimal(value: object, name: str) -> Decimal:
    # Floats are refused rather than converted: Decimal(0.1) is 0.1000000000000000055511151231...
    # and a float that reached this far already lost the exact value the user typed.
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    else:
        raise TypeError(f"{name} must be a Decimal or int, not {type(value).__name__}")
    if not result.is_finite():
        raise InvalidLine(f"{name} must be a finite number, got {result}")
    return result


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency`` (2.345 EUR -> 2.35)."""
    value = _within_range(_as_decimal(amount, "amount"))
    # 99...9.995 rounds up to 10^20: checked again after rounding.
    return _within_range(
        value.quantize(_quantum(currency), rounding=ROUND_HALF_UP, context=_CONTEXT)
    )


def _within_range(value: Decimal) -> Decimal:
    if value and value.adjusted() >= INTEGER_DIGITS:
        raise AmountOutOfRange(f"{value:f} has more than {INTEGER_DIGITS} digits before the point")
    return value


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Not rounded implicitly: unit prices may carry more decimals
    than the currency's minor unit; call :meth:`rounded` where a payable amount is meant."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        minor_unit(self.currency)
        object.__setattr__(self, "amount", _as_decimal(self.amount, "amount"))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(_CONTEXT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(_CONTEXT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """The rounded amounts of one priced line, all in ``currency``."""

    base: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """Totals of a quote, order or invoice: plain sums of its rounded lines."""

    subtotal: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    currency: str


def price_line(
    quantity: Decimal,
    unit_price: Decimal,
    discount_amount: Decimal,
    tax_rate: Decimal,
    currency: str,
) -> LineAmounts:
    """Price one line by the salesflow rule (see the module docstring).

    Raises ``TypeError`` for float inputs, ``InvalidLine`` for a non-positive quantity, a negative
    price or discount, a tax rate outside 0..1, or a discount larger than the base amount, and
    ``UnknownCurrency`` for an unsupported currency.
    """
    qty = _as_decimal(quantity, "quantity")
    price = _as_decimal(unit_price, "unit_price")
    disc = _as_decimal(discount_amount, "discount_amount")
    rate = _as_decimal(tax_rate, "tax_rate")
    if qty <= 0:
        raise InvalidLine(f"quantity must be positive, got {qty}")
    if qty > MAX_QUANTITY:
        raise AmountOutOfRange(f"quantity {qty} is above the limit of {MAX_QUANTITY}")
    if price < 0:
        raise InvalidLine(f"unit_price must not be negative, got {price}")
    if disc < 0:
        raise InvalidLine(f"discount_amount must not be negative, got {disc}")
    if not 0 <= rate <= 1:
        raise InvalidLine(f"tax_rate must be between 0 and 1, got {rate}")

    base = round_money(_CONTEXT.multiply(qty, price), currency)
    discount = round_money(disc, currency)
    if discount > base:
        raise InvalidLine(f"discount {discount} exceeds the line's base amount {base}")
    net = _CONTEXT.subtract(base, discount)
    tax = round_money(_CONTEXT.multiply(net, rate), currency)
    total = _within_range(_CONTEXT.add(net, tax))
    return LineAmounts(base, discount, net, tax, total, currency)


def sum_totals(lines: Iterable[LineAmounts], currency: str) -> DocumentTotals:
    """Sum rounded lines into document totals; every line must be in ``currency``.

    Summing the already rounded lines (never re-rounding a document-level product) is what keeps
    quote, order and invoice equal to the cent: each stage copies the lines and sums them again.
    """
    minor_unit(currency)
    subtotal = discount = net = tax = total = round_money(Decimal(0), currency)
    for line in lines:
        if line.currency != currency:
            raise CurrencyMismatch(f"line in {line.currency} on a {currency} document")
        subtotal = _CONTEXT.add(subtotal, line.base)
        discount = _CONTEXT.add(discount, line.discount)
        net = _CONTEXT.add(net, line.net)
        tax = _CONTEXT.add(tax, line.tax)
        total = _CONTEXT.add(total, line.total)
    return DocumentTotals(subtotal, discount, net, tax, _within_range(total), currency)


def zero_amounts(currency: str) -> LineAmounts:
    zero = round_money(Decimal(0), currency)
    return LineAmounts(zero, zero, zero, zero, zero, currency)


def add_amounts(a: LineAmounts, b: LineAmounts) -> LineAmounts:
    if a.currency != b.currency:
        raise CurrencyMismatch(f"{a.currency} and {b.currency}")
    return LineAmounts(
        _CONTEXT.add(a.base, b.base),
        _CONTEXT.add(a.discount, b.discount),
        _CONTEXT.add(a.net, b.net),
        _CONTEXT.add(a.tax, b.tax),
        _CONTEXT.add(a.total, b.total),
        a.currency,
    )


def subtract_amounts(a: LineAmounts, b: LineAmounts) -> LineAmounts:
    if a.currency != b.currency:
        raise CurrencyMismatch(f"{a.currency} and {b.currency}")
    return LineAmounts(
        _CONTEXT.subtract(a.base, b.base),
        _CONTEXT.subtract(a.discount, b.discount),
        _CONTEXT.subtract(a.net, b.net),
        _CONTEXT.subtract(a.tax, b.tax),
        _CONTEXT.subtract(a.total, b.total),
        a.currency,
    )


def piece_of_line(
    line: LineAmounts,
    *,
    quantity: Decimal,
    unit_price: Decimal,
    tax_rate: Decimal,
    part: Decimal,
    taken: LineAmounts,
    taken_quantity: Decimal,
) -> LineAmounts:
    """The amounts of `part` units of a line of `quantity` units whose `taken_quantity` units
    (amounts `taken`) were already billed or credited.

    Raises ``InvalidLine`` when `part` is not positive or exceeds what is left of the line.
    """
    left = _CONTEXT.subtract(quantity, taken_quantity)
    if part <= 0 or part > left:
        raise InvalidLine(f"{part} of the {left} units left of the line")
    rest = subtract_amounts(line, taken)
    if part == left:
        return rest
    currency = line.currency
    base = min(round_money(_CONTEXT.multiply(part, unit_price), currency), rest.base)
    share = _CONTEXT.divide(_CONTEXT.multiply(line.discount, part), quantity)
    # A piece never nets more than is left of the line's net: with a heavy discount, rounding
    # each piece's share on its own would leave the last piece netting below zero.
    discount = min(max(round_money(share, currency), base - rest.net), rest.discount, base)
    net = _CONTEXT.subtract(base, discount)
    tax = min(round_money(_CONTEXT.multiply(net, tax_rate), currency), rest.tax)
    return LineAmounts(base, discount, net, tax, _CONTEXT.add(net, tax), currency)


def spread_over_rates(
    gross: Decimal, available: Mapping[Decimal, tuple[Decimal, Decimal]], currency: str
) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """Split a gross amount (tax included) over tax rates, in proportion to the gross each rate
    still has (`available`: rate -> (net, tax) left), the last rate taking what is left; returns
    rate -> (net, tax). Raises ``InvalidLine`` when `gross` is not positive or exceeds the total
    available."""
    rates = sorted(r for r, (net, tax) in available.items() if net + tax > 0)
    total = sum((available[r][0] + available[r][1] for r in rates), Decimal(0))
    gross = round_money(gross, currency)
    if gross <= 0 or gross > total:
        raise InvalidLine(f"{gross} is not between 0 and the {total} available")
    out: dict[Decimal, tuple[Decimal, Decimal]] = {}
    remaining = gross
    for index, rate in enumerate(rates):
        net_left, tax_left = available[rate]
        left = _CONTEXT.add(net_left, tax_left)
        if index == len(rates) - 1:
            share = remaining
        else:
            share = min(
                round_money(_CONTEXT.divide(_CONTEXT.multiply(gross, left), total), currency),
                left,
                remaining,
            )
        net = min(
            round_money(_CONTEXT.divide(share, _CONTEXT.add(Decimal(1), rate)), currency), net_left
        )
        tax = _CONTEXT.subtract(share, net)
        if tax > tax_left:  # rounding pushed the tax past what is left: move the cents to net
            net, tax = _CONTEXT.subtract(share, tax_left), tax_left
        out[rate] = (net, tax)
        remaining = _CONTEXT.subtract(remaining, share)
    return out


def line_discount(
    quantity: Decimal,
    unit_price: Decimal,
    currency: str,
    *,
    rate: Decimal = Decimal(0),
    amount: Decimal = Decimal(0),
) -> Decimal:
    """A line's discount by the discount rule (module docstring): round(base x rate) + amount,
    where `rate` is the sum of the line's rates (0..1). Raises ``InvalidLine`` beyond the base."""
    base = round_money(_CONTEXT.multiply(_as_decimal(quantity, "quantity"), unit_price), currency)
    rate = _as_decimal(rate, "rate")
    if not 0 <= rate <= 1:
        raise InvalidLine(f"the line's discount rates add up to {rate}, above 1")
    discount = _CONTEXT.add(
        round_money(_CONTEXT.multiply(base, rate), currency),
        round_money(_as_decimal(amount, "amount"), currency),
    )
    if discount > base:
        raise InvalidLine(f"discount {discount} exceeds the line's base amount {base}")
    return discount


def allocate(amount: Decimal, weights: Iterable[Decimal], currency: str) -> tuple[Decimal, ...]:
    """`amount` spread over `weights` (the lines' nets) by the largest remainder rule (module
    docstring): the shares add up to `amount` exactly and none exceeds its weight."""
    total = round_money(amount, currency)
    ws = [_as_decimal(w, "weight") for w in weights]
    whole = sum(ws, Decimal(0))
    if total < 0 or any(w < 0 for w in ws):
        raise InvalidLine("a discount and the lines it is spread over are never negative")
    if total > whole:
        raise InvalidLine(f"discount {total} exceeds the lines' net {whole}")
    if not total:
        return tuple(Decimal(0).quantize(_quantum(currency)) for _ in ws)
    quantum = _quantum(currency)
    exact = [_CONTEXT.divide(_CONTEXT.multiply(total, w), whole) for w in ws]
    shares = [e.quantize(quantum, rounding=ROUND_FLOOR, context=_CONTEXT) for e in exact]
    left = int(_CONTEXT.divide(_CONTEXT.subtract(total, sum(shares, Decimal(0))), quantum))
    by_remainder = sorted(range(len(ws)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] = _CONTEXT.add(shares[i], quantum)
    return tuple(shares)


def convert(amount: Decimal, rate: Decimal, to_currency: str) -> Decimal:
    """`amount` times `rate`, rounded half-up to `to_currency`'s minor unit (module docstring)."""
    factor = _as_decimal(rate, "rate")
    if factor <= 0:
        raise InvalidLine(f"an exchange rate is positive, got {factor}")
    return round_money(_CONTEXT.multiply(_as_decimal(amount, "amount"), factor), to_currency)


def to_base(totals: DocumentTotals, rate: Decimal, base_currency: str) -> DocumentTotals:
    """A document's totals in the base currency: each total converted on its own."""
    return DocumentTotals(
        subtotal=convert(totals.subtotal, rate, base_currency),
        discount_total=convert(totals.discount_total, rate, base_currency),
        net_total=convert(totals.net_total, rate, base_currency),
        tax_total=convert(totals.tax_total, rate, base_currency),
        grand_total=convert(totals.grand_total, rate, base_currency),
        currency=base_currency,
    )
