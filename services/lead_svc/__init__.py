"""lead_svc: owns leads, from capture to qualification.

Consumes `lead.captured` (upstream systems: web forms, trade shows, imports, partners) and
`lead.commands` (QualifyLead, DisqualifyLead, ReactivateLead). Applies the configurable
qualification policy on capture (auto-qualify a fitting lead; disqualify an unreachable one or
a duplicate of an open or qualified lead; else keep it open for a person). Qualifying mints or
links the account and contact and mints the opportunity id.
Publishes `lead.qualified`, `lead.disqualified`, and `lead.rejected` for messages that do not
fit: a command against the lead's state, a capture that reuses a lead id or names another deal.
State: schema `lead_svc` (leads, accounts, contacts, inbox, outbox).
"""
