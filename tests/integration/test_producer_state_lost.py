"""When the broker's sequence state for a producer no longer matches the producer's, on the real
broker: the broker refuses every further record of that producer, the relay's failure
classification says only a new producer can send, and a new one does.

Regression test for a bug the chaos harness found (seed 20261405, a three-broker cluster whose
nodes were all SIGKILLed at once): brokers rebuilt their producer state behind what the relays'
idempotent producers had numbered, and answered OutOfOrderSequenceNumber to every retry for up to
11 minutes, until a later fault happened to restart those workers. The relay now replaces such a
producer (tests/unit/test_relay.py shows it does). The state mismatch is made here from the
producer's side, by moving its next sequence number on, which the broker sees exactly as it sees
its own state fallen behind: a gap in one producer id's sequence."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from aiokafka.admin import NewTopic
from aiokafka.errors import OutOfOrderSequenceNumber
from aiokafka.structs import TopicPartition

from shared import kafka_clients
from shared.failures import producer_state_lost
from shared.relay import make_producer
from shared.settings import replication_factor_from_env
from tests.support.infra import Endpoints

pytestmark = pytest.mark.integration


async def test_a_producer_the_broker_lost_track_of_is_refused_and_a_new_one_sends(
    endpoints: Endpoints,
) -> None:
    name = f"producer-state-{uuid.uuid4().hex[:8]}"
    admin = kafka_clients.admin(endpoints.kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, replication_factor_from_env(os.environ))])
    finally:
        await admin.close()
    tp = TopicPartition(name, 0)
    lost = make_producer(endpoints.kafka, "test-producer-state")
    await lost.start()
    try:
        async with asyncio.timeout(60):
            await lost.send_and_wait(name, b"first", key=b"k")
            # the broker's state for this producer id now lies 1000 records behind its own
            lost._txn_manager.increment_sequence_number(tp, 1000)
            with pytest.raises(OutOfOrderSequenceNumber) as refused:
                await lost.send_and_wait(name, b"second", key=b"k")
        assert producer_state_lost(refused.value)
    finally:
        await lost.stop()
    fresh = make_producer(endpoints.kafka, "test-producer-state")
    await fresh.start()
    try:
        async with asyncio.timeout(60):
            sent = await fresh.send_and_wait(name, b"second", key=b"k")
        assert sent.offset == 1
    finally:
        await fresh.stop()
