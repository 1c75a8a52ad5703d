"""The leads the lifecycle driver captures: a seeded mix of fitting, unreachable and duplicate
leads (the benchmark's load generator builds its leads with the same function)."""

from __future__ import annotations

import random
from decimal import Decimal

from contracts.leads import (
    ContactInfo,
    LeadCaptured,
    LeadSource,
    ProductInterest,
    PurchaseTimeframe,
)
from simulator.customers import Behaviour

SKUS = ("SKU-1001", "SKU-1002", "SKU-2001", "SKU-3005", "SKU-4000")
_COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")


def captured_lead(
    rng: random.Random,
    *,
    lead_id: str,
    run_id: str,
    index: int,
    behaviour: Behaviour,
    emails: list[tuple[str, ContactInfo]],
) -> tuple[str, LeadCaptured]:
    """The `index`-th lead of a run and its kind: "fit", "unreachable" (no email or phone) or
    "duplicate" (the company and contact of an earlier fit lead, taken from `emails`, to which a
    fit lead is added)."""
    roll = rng.random()
    company = f"{rng.choice(_COMPANIES)} {run_id}-{index % 97}"
    contact = ContactInfo(
        first_name="Ada",
        last_name=f"Buyer-{index}",
        email=f"buyer{index}@{run_id}.example.com",
        phone=None,
    )
    kind = "fit"
    if roll < behaviour.unreachable:
        kind = "unreachable"
        contact = ContactInfo(first_name="Ada", last_name=f"Buyer-{index}", email=None, phone=None)
    elif roll < behaviour.unreachable + behaviour.duplicate and emails:
        kind = "duplicate"
        company, contact = rng.choice(emails)
    else:
        emails.append((company, contact))
    interests = tuple(
        ProductInterest(sku=sku, quantity=Decimal(rng.randint(1, 20)))
        for sku in rng.sample(SKUS, rng.randint(1, 3))
    )
    return kind, LeadCaptured(
        lead_id=lead_id,
        source=rng.choice(list(LeadSource)),
        company_name=company,
        contact=contact,
        topic="equipment",
        budget_amount=Decimal(5000),
        currency="EUR",
        purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
        product_interests=interests,
        estimated_amount=None,
        estimated_close_date=None,
        notes=None,
    )
