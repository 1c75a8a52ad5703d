"""Every Kafka client the gateway creates, from one place.

The gateway publishes (the relay's producer), reads a deal's events (a consumer) and creates
its topics (an admin client). Building them all here gives one spot where the connection's
security (SASL, TLS, the gateway's own principal) is added for every one of them.
"""

from __future__ import annotations

from typing import Literal, overload

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from shared import kafka_clients
from shared.kafka_security import KafkaSecurity
from shared.relay import make_producer

Kind = Literal["producer", "consumer", "admin"]


@overload
def kafka_client(
    kind: Literal["producer"], bootstrap: str, client_id: str, security: KafkaSecurity | None = ...
) -> AIOKafkaProducer: ...
@overload
def kafka_client(
    kind: Literal["consumer"], bootstrap: str, client_id: str, security: KafkaSecurity | None = ...
) -> AIOKafkaConsumer: ...
@overload
def kafka_client(
    kind: Literal["admin"], bootstrap: str, client_id: str, security: KafkaSecurity | None = ...
) -> AIOKafkaAdminClient: ...
def kafka_client(
    kind: Kind, bootstrap: str, client_id: str, security: KafkaSecurity | None = None
) -> AIOKafkaProducer | AIOKafkaConsumer | AIOKafkaAdminClient:
    """A client of `kind`, not started (aiokafka binds a client to the loop that starts it),
    connecting as the gateway's principal (`security`; None: from the environment)."""
    if kind == "producer":
        # The workers' producer settings: idempotent, acks=all.
        return make_producer(bootstrap, client_id, security)
    if kind == "consumer":
        return kafka_clients.consumer(
            bootstrap=bootstrap, security=security, client_id=client_id, enable_auto_commit=False
        )
    return kafka_clients.admin(bootstrap, security=security, client_id=client_id)
