"""lead_svc's pure domain: values (`model`) and the decisions over them (`decisions`).

Pure: standard library only (no framework, no I/O). Callers import this package and use
`domain.<name>`; the split into two modules is only for size.
"""

from services.lead_svc.domain.decisions import (
    CAPTURED,
    DISQUALIFY,
    QUALIFY,
    REACTIVATE,
    Captured,
    Decision,
    Disqualified,
    Qualified,
    Reactivated,
    Refusal,
    capture,
    disqualify,
    find_duplicate,
    qualify,
    reactivate,
)
from services.lead_svc.domain.model import (
    DecidedBy,
    Directory,
    DisqualifyReason,
    Interest,
    Lead,
    LeadState,
    Lineage,
    Profile,
    QualificationPolicy,
    normalise_company,
)

__all__ = [
    "CAPTURED",
    "DISQUALIFY",
    "QUALIFY",
    "REACTIVATE",
    "Captured",
    "DecidedBy",
    "Decision",
    "Directory",
    "Disqualified",
    "DisqualifyReason",
    "Interest",
    "Lead",
    "LeadState",
    "Lineage",
    "Profile",
    "QualificationPolicy",
    "Qualified",
    "Reactivated",
    "Refusal",
    "capture",
    "disqualify",
    "find_duplicate",
    "normalise_company",
    "qualify",
    "reactivate",
]
