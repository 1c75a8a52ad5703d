"""The second stage's input: `quote.accepted` events for fresh deals, as quote_svc publishes them.

order_svc needs no upstream state to confirm an order: the accepted quote carries the whole
document (customer, lines, totals, billing terms), and the deal id must be the quote's lead.
So the benchmark builds them itself, with the project's contracts: one to three lines of the
sample price list (`samples/price_list.csv`) priced by `DocumentLine.priced` (a line discount on
some), totals summed by `contracts.money`, and the demo driver's billing terms (`Behaviour`: per
shipment, with a down payment, or the deployment's default), each drawn per deal from the seed.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.kafka_io import Record
from bench.loadgen import PRODUCER
from contracts import money
from contracts.catalog import PriceListItemUpserted
from contracts.documents import DocumentLine, DocumentTotals, InvoicingPolicy, PaymentTerms
from contracts.envelope import encode, kafka_headers, make_envelope
from contracts.leads import ContactInfo
from contracts.quotes import QuoteAccepted
from salesflow.catalog import parse_price_list
from simulator.customers import DOWN_PAYMENT_RATES, Behaviour

PRICE_LIST = Path(__file__).resolve().parents[1] / "samples" / "price_list.csv"
LINE_DISCOUNT = 0.2  # share of lines with a discount (5 % of the line's base amount)


def price_list(path: Path = PRICE_LIST) -> list[PriceListItemUpserted]:
    return [item for item in parse_price_list(path.read_text()) if item.active]


def accepted_quote(
    rng: random.Random,
    *,
    deal_id: str,
    number: str,
    items: list[PriceListItemUpserted],
    behaviour: Behaviour,
    now: datetime,
) -> QuoteAccepted:
    """One accepted quote for `deal_id`: its lines drawn from `items`, in their currency."""
    currency = items[0].currency
    picked = rng.sample([i for i in items if i.currency == currency], rng.randint(1, 3))
    lines = []
    for n, item in enumerate(picked, start=1):
        quantity = Decimal(rng.randint(1, 20))
        base = quantity * item.unit_price
        discount = (base * Decimal("0.05")).quantize(Decimal("0.01"))
        lines.append(
            DocumentLine.priced(
                line_no=n,
                sku=item.sku,
                description=item.description,
                quantity=quantity,
                unit=item.unit,
                unit_price=item.unit_price,
                discount_amount=discount if rng.random() < LINE_DISCOUNT else Decimal(0),
                tax_rate=item.tax_rate,
                currency=currency,
            )
        )
    totals = money.sum_totals((line.amounts(currency) for line in lines), currency)
    terms: dict[str, Any] = {}
    roll, pick = rng.random(), rng.random()
    if roll < behaviour.on_delivery:
        terms = {"invoicing_policy": InvoicingPolicy.ON_DELIVERY}
    elif roll < behaviour.on_delivery + behaviour.down_payment:
        rate = DOWN_PAYMENT_RATES[int(pick * len(DOWN_PAYMENT_RATES))]
        terms = {"invoicing_policy": InvoicingPolicy.DOWN_PAYMENT, "down_payment_rate": rate}
    return QuoteAccepted(
        quote_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        quote_number=number,
        revision=1,
        opportunity_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        lead_id=deal_id,
        account_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        account_name=f"Customer {number}",
        contact_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        contact=ContactInfo(
            first_name="Ada",
            last_name=f"Buyer-{number}",
            email=f"buyer-{number.lower()}@example.com",
            phone=None,
        ),
        price_list_id=items[0].price_list_id,
        currency=currency,
        lines=tuple(lines),
        totals=DocumentTotals.from_money(totals),
        payment_terms=PaymentTerms.NET_30,
        customer_po=f"PO-{number}",
        accepted_at=now,
        **terms,
    )


def build_accepted_quotes(
    count: int, *, seed: int, run_id: str, behaviour: Behaviour | None = None
) -> list[Record]:
    """`count` `quote.accepted` records for fresh deals `deal-<run_id>-<n>`, keyed by deal."""
    b = behaviour or Behaviour()
    items = price_list()
    now = datetime.now(UTC)
    records = []
    for i in range(count):
        deal_id = f"deal-{run_id}-{i:06d}"
        rng = random.Random(f"{seed}:{i}:accepted-quote")
        quote = accepted_quote(
            rng, deal_id=deal_id, number=f"Q-{run_id}-{i:06d}", items=items, behaviour=b, now=now
        )
        envelope = make_envelope(
            quote, event_type="quote.accepted", deal_id=deal_id, producer=PRODUCER, occurred_at=now
        )
        records.append(Record(deal_id.encode(), encode(envelope), tuple(kafka_headers(envelope))))
    return records
