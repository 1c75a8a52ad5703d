"""Customers as master data (lead_svc): accounts and contacts, their addresses and the ERP's
identifiers, kept in step between the CRM, the ERP and salesflow.

Qualification creates or links an account as before; a CRM or the ERP creates and updates them
with `account.commands`, and every change is published as `account.updated` / `contact.updated`
(compacted topics keyed by the account and contact id: a consumer that starts late reads the
latest of each). Account-level messages belong to no deal: their envelope's `deal_id` (and so the
Kafka key) is the account id.

Who owns which field when both systems send updates (`authority` of a command):
- the ERP owns `erp_customer_number`, `tax_id`, `legal_name`, `bill_to`, `payment_terms` and
  `default_currency` (it bills);
- the CRM owns `name`, `ship_to` and the contacts (sales keeps them);
- a field its owner has set is left as it is when the other system sends it, and the answer
  lists it in `ignored`; a command that changes nothing because of that is refused
  `owned_by_other_system`. A field nobody set yet, or the other system set, may be set by
  either.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Final, Self

from pydantic import ConfigDict, Field, model_validator

from contracts.base import EntityId, ExternalId, Payload, ShortText, any_present
from contracts.leads import CONTACT_EXAMPLE, ContactInfo
from contracts.parties import AccountDetails

__all__ = [
    "ERASED",
    "AccountUpdated",
    "Authority",
    "ContactErased",
    "ContactUpdated",
    "LinkErpCustomer",
    "UpsertAccount",
    "UpsertContact",
]

_ACCOUNT_ID_EXAMPLE = "8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"

# What stands where an erased person's name was (documents keep their numbers and amounts).
ERASED: Final = "[erased]"


class Authority(StrEnum):
    """Which system speaks: it decides which fields the command may change (module docstring)."""

    CRM = "crm"
    ERP = "erp"


class UpsertAccount(Payload):
    """Command from a CRM or the ERP: create an account, or change the fields it owns."""

    EVENT_TYPE: ClassVar[str] = "account.upsert"

    account_id: EntityId | None = Field(
        default=None,
        description="The account; absent to create one, which is then named by `external_ref`.",
        examples=[_ACCOUNT_ID_EXAMPLE, None],
    )
    external_ref: ExternalId | None = Field(
        default=None,
        description="The sender's own id of the account (CRM account id, ERP customer number); "
        "creating with the same one twice is the same account.",
        examples=["C-10042"],
    )
    authority: Authority = Field(description="Who speaks (field ownership).", examples=["erp"])
    details: AccountDetails = Field(
        description="The fields to set.", examples=[{"tax_id": "GB123456789"}]
    )
    requested_by: ShortText = Field(
        description="The connector or person.", examples=["erp-connector"]
    )

    model_config = ConfigDict(json_schema_extra=any_present("account_id", "external_ref"))

    @model_validator(mode="after")
    def _names_the_account(self) -> Self:
        if self.account_id is None and self.external_ref is None:
            raise ValueError("account_id or external_ref is required")
        return self


class UpsertContact(Payload):
    """Command from a CRM: create or change a contact of an account."""

    EVENT_TYPE: ClassVar[str] = "account.upsert_contact"

    account_id: EntityId = Field(
        description="The contact's account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    contact_id: EntityId | None = Field(
        default=None,
        description="The contact; absent to create one (then found by email if it exists).",
        examples=["0b7e7dee-87ba-4c2e-9e0a-5f2d3c4b5a69", None],
    )
    contact: ContactInfo = Field(description="The person.", examples=[CONTACT_EXAMPLE])
    requested_by: ShortText = Field(description="The connector or person.", examples=["crm-sync"])


class LinkErpCustomer(Payload):
    """Command from the ERP: this account is our customer number N."""

    EVENT_TYPE: ClassVar[str] = "account.link_erp_customer"

    account_id: EntityId = Field(description="The account.", examples=[_ACCOUNT_ID_EXAMPLE])
    erp_customer_number: ExternalId = Field(description="The ERP's number.", examples=["C-10042"])
    requested_by: ShortText = Field(
        description="The connector or person.", examples=["erp-connector"]
    )


class AccountUpdated(Payload):
    """An account was created or changed: its full master data after the change."""

    EVENT_TYPE: ClassVar[str] = "account.updated"

    account_id: EntityId = Field(description="The account.", examples=[_ACCOUNT_ID_EXAMPLE])
    version: int = Field(ge=1, description="Increases with every change.", examples=[3])
    details: AccountDetails = Field(description="All its fields.", examples=[{"name": "Acme"}])
    changed: tuple[ShortText, ...] = Field(
        description="The fields this change set.", examples=[["tax_id", "bill_to"]]
    )
    ignored: tuple[ShortText, ...] = Field(
        default=(),
        description="Fields the command asked to change that the other system owns.",
        examples=[["ship_to"], []],
    )
    created: bool = Field(description="True when the account is new.", examples=[False])


class ContactUpdated(Payload):
    """A contact was created or changed."""

    EVENT_TYPE: ClassVar[str] = "contact.updated"

    contact_id: EntityId = Field(
        description="The contact.", examples=["0b7e7dee-87ba-4c2e-9e0a-5f2d3c4b5a69"]
    )
    account_id: EntityId = Field(description="Its account.", examples=[_ACCOUNT_ID_EXAMPLE])
    contact: ContactInfo = Field(description="The person.", examples=[CONTACT_EXAMPLE])
    created: bool = Field(description="True when the contact is new.", examples=[True])


class ContactErased(Payload):
    """A person's data was erased from every service on request (their right to erasure).

    Published on the contact's compacted topic under its id, so it supersedes the contact's last
    `contact.updated` there (compaction then drops the details, `contracts.topics`), and so an
    ERP or CRM that follows the topic erases its own copy. Documents keep their numbers and
    amounts; where salesflow held the person's name it now reads `ERASED`."""

    EVENT_TYPE: ClassVar[str] = "contact.erased"

    contact_id: EntityId = Field(
        description="The contact.", examples=["0b7e7dee-87ba-4c2e-9e0a-5f2d3c4b5a69"]
    )
    requested_by: ShortText = Field(
        description="Who asked for the erasure: a user id or a privacy team's queue.",
        examples=["privacy-team"],
    )
    reference: ShortText | None = Field(
        default=None,
        description="The erasure request's own reference, if any.",
        examples=["DSR-2026-0042"],
    )
