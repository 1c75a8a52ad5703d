"""The stages of the lifecycle and the service that runs each: the one registry of them.

Everything that needs the list derives it from here: the topic map (owners, dead-letter topics,
who reads what), the workers' consumer groups, the CLI, the benchmark, the fault-injection
harness, the tests and the AsyncAPI documents. A fifth stage is one line here, its contracts and
its service package (docs/adding-a-stage.md).

It names services but imports none of them: a service's code is found by the convention below
(`services.<service>.main`), so the tools that only need names never load a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "DEPLOYMENTS",
    "SERVICES",
    "STAGES",
    "STAGE_NAMES",
    "Deployment",
    "Stage",
    "deployment",
    "stage",
    "stage_of_service",
]


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of the lifecycle, as operators and tools name it."""

    name: str
    owns: str
    does: str

    @property
    def service(self) -> str:
        """The service (and PostgreSQL schema, consumer group, log name) that runs the stage."""
        return f"{self.name}_svc"

    @property
    def main_module(self) -> str:
        """The composition root of the stage's worker."""
        return f"services.{self.service}.main"

    @property
    def handlers_module(self) -> str:
        return f"services.{self.service}.handlers"

    @property
    def group_id(self) -> str:
        return self.service

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.service}.dlq"


STAGES: Final[tuple[Stage, ...]] = (
    Stage(
        "lead",
        "leads, accounts, contacts",
        "Captures leads, applies the qualification policy, qualifies and disqualifies.",
    ),
    Stage(
        "quote",
        "opportunities, price lists, quotes",
        "Opens opportunities, prices and issues quotes, revises, wins and loses them.",
    ),
    Stage(
        "order",
        "sales orders",
        "Confirms one order per accepted quote, records fulfilment and cancellation.",
    ),
    Stage(
        "invoice",
        "invoices, payments",
        "Posts invoices for confirmed orders (native) or links the accounting system's "
        "invoices to them (external), records payments, cancels invoices.",
    ),
)

STAGE_NAMES: Final[tuple[str, ...]] = tuple(s.name for s in STAGES)
SERVICES: Final[tuple[str, ...]] = tuple(s.service for s in STAGES)

_BY_NAME: Final[Mapping[str, Stage]] = MappingProxyType({s.name: s for s in STAGES})
_BY_SERVICE: Final[Mapping[str, Stage]] = MappingProxyType({s.service: s for s in STAGES})


def stage(name: str) -> Stage:
    """The stage called `name` (`lead`, ...); `KeyError` naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; known: {', '.join(_BY_NAME)}") from None


def stage_of_service(service: str) -> Stage:
    """The stage run by `service` (`lead_svc`, ...)."""
    try:
        return _BY_SERVICE[service]
    except KeyError:
        raise KeyError(f"unknown service {service!r}; known: {', '.join(_BY_SERVICE)}") from None


@dataclass(frozen=True, slots=True)
class Deployment:
    """Which stages salesflow runs; the others are an ERP's, on the same topics and contracts.

    The three follow the integration scenarios of Dynamics 365 Sales with an ERP (prospect to
    cash): the whole process in the CRM; leads and opportunities in the CRM, quotes, orders and
    invoices in the ERP; quotes in the CRM, orders and invoices in the ERP.
    """

    name: str
    runs: tuple[str, ...]
    says: str

    @property
    def erp_stages(self) -> tuple[str, ...]:
        """The stages the ERP plays, in lifecycle order."""
        return tuple(name for name in STAGE_NAMES if name not in self.runs)


DEPLOYMENTS: Final[tuple[Deployment, ...]] = (
    Deployment(
        "full",
        STAGE_NAMES,
        "The whole process in salesflow; an ERP may still post the invoices "
        "(SALESFLOW_INVOICE_MODE=external).",
    ),
    Deployment(
        "crm-leads",
        ("lead",),
        "Leads and opportunities in salesflow: qualification opens the opportunity and "
        "lead.qualified hands it over; the ERP quotes, orders, bills and collects.",
    ),
    Deployment(
        "crm-quotes",
        ("lead", "quote"),
        "Leads, opportunities and quotes in salesflow: quote.accepted hands the deal over; the "
        "ERP books the order, bills and collects.",
    ),
)

_DEPLOYMENTS: Final[Mapping[str, Deployment]] = MappingProxyType({d.name: d for d in DEPLOYMENTS})


def deployment(name: str) -> Deployment:
    """The deployment called `name`; `KeyError` naming the known ones otherwise."""
    try:
        return _DEPLOYMENTS[name]
    except KeyError:
        known = ", ".join(_DEPLOYMENTS)
        raise KeyError(f"unknown deployment {name!r}; known: {known}") from None
