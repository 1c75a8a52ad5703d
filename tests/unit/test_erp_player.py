"""What the ERP player reads in each deployment is derived from the topic map, never declared
again (review of issue 11, finding 15): the topics a stage salesflow runs publishes for a stage
the ERP plays. No I/O."""

from __future__ import annotations

import pytest

from contracts.stages import DEPLOYMENTS, Deployment, deployment, stage
from contracts.topics import topic
from simulator.erp import ErpPlayer, handovers


def test_each_deployment_hands_over_on_the_topics_of_its_boundary() -> None:
    assert handovers(deployment("full")) == ()
    # The ERP quotes: it reads the qualified lead, and the master data quote_svc would have.
    assert handovers(deployment("crm-leads")) == ("lead.qualified", "account.updated")
    assert handovers(deployment("crm-quotes")) == ("quote.accepted",)


@pytest.mark.parametrize("plan", DEPLOYMENTS, ids=lambda d: d.name)
def test_a_hand_over_goes_from_a_stage_salesflow_runs_to_one_the_erp_plays(
    plan: Deployment,
) -> None:
    ours = {stage(name).service for name in plan.runs}
    theirs = {stage(name).service for name in plan.erp_stages}
    for name in handovers(plan):
        spec = topic(name)
        assert spec.owner in ours
        assert theirs & set(spec.readers)
    assert ErpPlayer("127.0.0.1:1", plan).reads == handovers(plan)
