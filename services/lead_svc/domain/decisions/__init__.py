"""lead_svc's decisions: on leads (`leads`) and on master data (`accounts`), answering with
the outcomes and refusals of `outcomes`.

Callers use `domain.<name>`; the split into modules is only for size.
"""

from services.lead_svc.domain.decisions.accounts import (
    LINK_ERP_CUSTOMER,
    UPSERT_ACCOUNT,
    UPSERT_CONTACT,
    AccountChanged,
    AccountDecision,
    ContactChanged,
    Unchanged,
    link_erp_customer,
    upsert_account,
    upsert_contact,
)
from services.lead_svc.domain.decisions.leads import (
    CAPTURED,
    DISQUALIFY,
    QUALIFY,
    REACTIVATE,
    UPDATE,
    Disqualified,
    LeadDecision,
    Opened,
    Qualified,
    Reactivated,
    Updated,
    amend,
    capture,
    disqualify,
    find_duplicate,
    qualify,
    reactivate,
    update,
)
from services.lead_svc.domain.decisions.outcomes import (
    Refusal,
    account_id_for_company,
    account_id_for_ref,
    contact_id_for,
)

__all__ = [
    "CAPTURED",
    "DISQUALIFY",
    "LINK_ERP_CUSTOMER",
    "QUALIFY",
    "REACTIVATE",
    "UPDATE",
    "UPSERT_ACCOUNT",
    "UPSERT_CONTACT",
    "AccountChanged",
    "AccountDecision",
    "ContactChanged",
    "Disqualified",
    "LeadDecision",
    "Opened",
    "Qualified",
    "Reactivated",
    "Refusal",
    "Unchanged",
    "Updated",
    "account_id_for_company",
    "account_id_for_ref",
    "amend",
    "capture",
    "contact_id_for",
    "disqualify",
    "find_duplicate",
    "link_erp_customer",
    "qualify",
    "reactivate",
    "update",
    "upsert_account",
    "upsert_contact",
]
