"""Who may do what on Kafka: the principals and the topics each may read and write.

Derived from the topic map (`contracts.topics`) and the deployments (`contracts.stages`), never
listed twice: a worker reads exactly the topics it consumes, in its own consumer group, and writes
exactly the topics it publishes (its outbound topics and its dead-letter topic). The upstream
systems get their inbound topics by name; an ERP also gets what it owns when it plays a stage
(the outbound topics of the stages a deployment leaves to it). The admin principal creates topics
and runs the operator commands (imports, replay, dead-letter redrive, the tests' probes); it is
the broker's super user, so it needs no ACL of its own.

`shared.kafka_acl` turns this into ACL bindings, `salesflow acl apply` writes them and
`salesflow acl show` prints the table the README shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from contracts.stages import DEPLOYMENTS, STAGES, stage
from contracts.topics import ALL_TOPICS, TopicKind, TopicSpec, consumed_by, published_by

__all__ = [
    "ADMIN",
    "ERP",
    "GATEWAY",
    "PRINCIPALS",
    "SALES",
    "WEB_FORMS",
    "Principal",
    "principal",
]

ADMIN: Final = "admin"
WEB_FORMS: Final = "web_forms"
ERP: Final = "erp"
SALES: Final = "sales"
GATEWAY: Final = "gateway"


@dataclass(frozen=True, slots=True)
class Principal:
    """One Kafka identity (a SCRAM user `User:<name>`) and what it may do."""

    name: str
    does: str
    writes: tuple[str, ...]
    reads: tuple[str, ...] = ()
    # The consumer groups it may join: a worker's own group, literally; an upstream system's
    # groups by prefix (`erp...`), whatever it calls them.
    group: str = ""
    group_is_prefix: bool = False
    # Topics it may create (a worker creates the topics it owns on start when they are missing).
    creates: tuple[str, ...] = ()
    super_user: bool = False


def _names(specs: Iterable[TopicSpec]) -> tuple[str, ...]:
    return tuple(spec.name for spec in specs)


def _worker(service: str) -> Principal:
    owned = tuple(spec.name for spec in ALL_TOPICS if spec.owner == service)
    # A worker with time rules sends each period's tick itself (shared.ticker, every sender of
    # one period derives the same event id), so it writes the schedule topics it reads.
    ticks = tuple(s for s in consumed_by(service) if s.kind is TopicKind.SCHEDULE)
    return Principal(
        name=service,
        does=f"the {service} worker",
        writes=_names((*published_by(service), *ticks)),
        reads=_names(consumed_by(service)),
        group=stage(service.removesuffix("_svc")).group_id,
        creates=owned,
    )


def _erp() -> Principal:
    # The stages some deployment leaves to the ERP: it publishes their outbound topics (never
    # their dead letters: those are salesflow's) and reads what they consume.
    played = sorted(
        {stage(name).service for plan in DEPLOYMENTS for name in plan.erp_stages},
        key=[s.service for s in STAGES].index,
    )
    owned = tuple(
        spec.name
        for service in played
        for spec in published_by(service)
        if spec.kind is TopicKind.OUTBOUND
    )
    follows = tuple(
        dict.fromkeys(
            name
            for service in played
            for name in _names(consumed_by(service))
            if name not in _INBOUND_OF_ERP
        )
    )
    return Principal(
        name=ERP,
        does="the ERP: prices, master data, order and invoice commands, and the stages it plays",
        writes=(*_INBOUND_OF_ERP, *owned),
        reads=follows,
        group=ERP,
        group_is_prefix=True,
    )


# The inbound topics whose commands come from the ERP: its price lists, its customers, its
# acknowledgements, refusals and fulfilment of orders, its invoices and payments.
_INBOUND_OF_ERP: Final = (
    "catalog.prices",
    "catalog.volume_discounts",
    "fx.rates",
    "account.commands",
    "order.commands",
    "invoice.commands",
)

PRINCIPALS: Final[tuple[Principal, ...]] = (
    Principal(ADMIN, "operators: topics, ACLs, imports, replay, redrive", (), super_user=True),
    *(_worker(s.service) for s in STAGES),
    Principal(WEB_FORMS, "the web forms: captured leads", ("lead.captured",)),
    _erp(),
    Principal(
        SALES,
        "sales people's tools: lead, opportunity and quote commands",
        ("lead.commands", "opportunity.commands", "quote.commands"),
    ),
    # The HTTP gateway publishes every inbound command for the systems without Kafka (each
    # request checked against its own client's list) and reads a deal's records on every topic
    # for its trace endpoint, assigned to partitions, in no group.
    Principal(
        GATEWAY,
        "the HTTP gateway: every inbound command, a deal's trace",
        _names(s for s in ALL_TOPICS if s.kind is TopicKind.INBOUND),
        reads=_names(ALL_TOPICS),
        creates=_names(s for s in ALL_TOPICS if s.kind is TopicKind.INBOUND),
    ),
)

_BY_NAME: Final = {p.name: p for p in PRINCIPALS}


def principal(name: str) -> Principal:
    """The principal called `name`; `KeyError` naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown principal {name!r}; known: {', '.join(_BY_NAME)}") from None
