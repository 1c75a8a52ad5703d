"""The access model is derived from the topic map: workers read their inputs in their own group
and write their outputs and dead letters; upstream systems get their inbound topics only."""

from __future__ import annotations

from contracts.access import ADMIN, ERP, GATEWAY, PRINCIPALS, SALES, WEB_FORMS, principal
from contracts.stages import STAGES
from contracts.topics import ALL_TOPICS, TopicKind, consumed_by, published_by, topic
from salesflow.access_cli import access_markdown
from shared.kafka_acl import bindings_of
from tests.support.infra import REPO


def test_every_topic_a_principal_names_exists() -> None:
    for p in PRINCIPALS:
        for name in (*p.writes, *p.reads, *p.creates):
            topic(name)


def test_a_worker_reads_its_inputs_and_writes_its_outputs_in_its_own_group() -> None:
    for stage in STAGES:
        p = principal(stage.service)
        assert set(p.reads) == {t.name for t in consumed_by(stage.service)}
        # plus the ticks it sends itself when it has time rules (it reads them too)
        ticks = {t.name for t in consumed_by(stage.service) if t.kind is TopicKind.SCHEDULE}
        assert set(p.writes) == {t.name for t in published_by(stage.service)} | ticks
        assert stage.dead_letter_topic in p.writes
        assert (p.group, p.group_is_prefix) == (stage.group_id, False)
        groups = [b for b in bindings_of(p) if b.resource == "GROUP"]
        assert [(b.name, b.pattern) for b in groups] == [(stage.group_id, "LITERAL")]


def test_upstream_systems_get_their_inbound_topics() -> None:
    assert principal(WEB_FORMS).writes == ("lead.captured",)
    assert principal(WEB_FORMS).reads == ()
    assert set(principal(SALES).writes) == {
        "lead.commands",
        "opportunity.commands",
        "quote.commands",
    }
    erp = principal(ERP)
    assert {"catalog.prices", "invoice.commands", "account.commands", "order.commands"} <= set(
        erp.writes
    )
    assert not any(name.endswith(".dlq") for name in erp.writes)
    assert "lead.captured" not in erp.writes
    assert principal(ADMIN).super_user
    assert bindings_of(principal(ADMIN)) == []


def test_nobody_but_the_owner_writes_a_dead_letter_topic() -> None:
    for spec in ALL_TOPICS:
        if spec.name.endswith(".dlq"):
            writers = {p.name for p in PRINCIPALS if spec.name in p.writes}
            assert writers == {spec.owner}


def test_the_readme_shows_the_access_model() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert access_markdown() in readme, "README access table is stale: `salesflow acl show`"


def test_every_inbound_topic_has_a_writer_and_the_gateway_writes_them_all() -> None:
    inbound = {s.name for s in ALL_TOPICS if s.kind is TopicKind.INBOUND}
    upstream = {n for p in PRINCIPALS if p.name not in (GATEWAY, ADMIN) for n in p.writes}
    assert inbound <= upstream
    gateway = principal(GATEWAY)
    assert set(gateway.writes) == inbound
    assert not any(name.endswith(".dlq") for name in gateway.writes)
    assert [b for b in bindings_of(gateway) if b.resource == "GROUP"] == []
