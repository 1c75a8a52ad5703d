"""Who a document is for: structured addresses, an account's master data, and the snapshot of
them that quotes, orders and invoices carry for an ERP to ship and bill from."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator, Field, WithJsonSchema

from contracts.base import NO_NUL, Contract, CurrencyCode, EntityId, ExternalId, ShortText
from contracts.documents import PaymentTerms

__all__ = [
    "ADDRESS_EXAMPLE",
    "COUNTRIES",
    "AccountDetails",
    "Address",
    "CountryCode",
    "CustomerDetails",
]

# ISO 3166-1 alpha-2, the assigned codes.
COUNTRIES: Final[frozenset[str]] = frozenset(
    {
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
        "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
        "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
        "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
        "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
        "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
        "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
        "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
        "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
        "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
        "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
        "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
        "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
        "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
        "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
        "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    }
)  # fmt: skip


def _country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[
    str,
    Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_country),
    # The schema lists the codes the validator accepts.
    WithJsonSchema({"type": "string", "enum": sorted(COUNTRIES)}),
]

ADDRESS_EXAMPLE: Final[dict[str, object]] = {
    "lines": ["12 Engine Street", "Building B"],
    "city": "London",
    "postal_code": "EC1A 1BB",
    "region": None,
    "country": "GB",
}
_ACCOUNT_ID_EXAMPLE = "8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"


class Address(Contract):
    """A postal address, structured the way ERPs store them."""

    lines: tuple[ShortText, ...] = Field(
        min_length=1, max_length=4, description="Street lines, 1 to 4.", examples=[["12 Engine St"]]
    )
    city: ShortText = Field(description="City or town.", examples=["London"])
    postal_code: Annotated[str, Field(min_length=1, max_length=20), NO_NUL] | None = Field(
        default=None, description="Postal code, where the country has them.", examples=["EC1A 1BB"]
    )
    region: ShortText | None = Field(
        default=None, description="State, province or region.", examples=["Bavaria", None]
    )
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country.", examples=["GB"])


class AccountDetails(Contract):
    """An account's master data; every field optional (absent: unknown, or unchanged on upsert)."""

    name: ShortText | None = Field(
        default=None, description="Trading name (CRM).", examples=["Analytical Engines"]
    )
    legal_name: ShortText | None = Field(
        default=None,
        description="Registered legal name (ERP).",
        examples=["Analytical Engines Ltd"],
    )
    tax_id: (
        Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9 .\-/]+$")] | None
    ) = Field(default=None, description="Tax / VAT id (ERP).", examples=["GB123456789"])
    erp_customer_number: ExternalId | None = Field(
        default=None, description="The ERP's customer number (ERP).", examples=["C-10042"]
    )
    bill_to: Address | None = Field(
        default=None, description="Invoices go here (ERP).", examples=[ADDRESS_EXAMPLE]
    )
    ship_to: Address | None = Field(
        default=None,
        description="Goods go here unless an order says otherwise (CRM).",
        examples=[ADDRESS_EXAMPLE],
    )
    default_currency: CurrencyCode | None = Field(
        default=None, description="Currency the customer is billed in (ERP).", examples=["GBP"]
    )
    payment_terms: PaymentTerms | None = Field(
        default=None, description="Agreed payment terms (ERP).", examples=["net_30"]
    )


class CustomerDetails(Contract):
    """Who buys, who pays, where it goes: the snapshot a quote takes of its account when it is
    issued, carried unchanged by the order and the invoice made from it."""

    account_id: EntityId = Field(description="The account.", examples=[_ACCOUNT_ID_EXAMPLE])
    sold_to: ShortText = Field(
        description="Customer name (legal name when known).", examples=["Analytical Engines Ltd"]
    )
    bill_to: Address | None = Field(
        default=None, description="Billing address.", examples=[ADDRESS_EXAMPLE]
    )
    ship_to: Address | None = Field(
        default=None, description="Delivery address.", examples=[ADDRESS_EXAMPLE]
    )
    tax_id: ShortText | None = Field(
        default=None, description="Customer tax / VAT id.", examples=["GB123456789"]
    )
    erp_customer_number: ExternalId | None = Field(
        default=None, description="The ERP's customer number.", examples=["C-10042"]
    )
