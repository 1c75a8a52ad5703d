"""Secure by default, on the real servers: who may connect, write, read and join what.

Kafka runs with SASL/SCRAM, a TLS listener and the ACLs of `contracts.access`; PostgreSQL with a
role per service (`shared.db_roles`). Each test connects as a principal or role of the local
infra's secrets directory.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import errors as kafka_errors
from sqlalchemy import text
from sqlalchemy.engine import make_url

from contracts.access import GATEWAY, WEB_FORMS
from contracts.envelope import encode
from shared import kafka_clients
from shared.db import make_engine
from shared.kafka_security import KafkaSecurity
from shared.local_secrets import password_file
from shared.migrations import upgrade_async
from shared.settings import RuntimeSettings, database_url
from tests.support.infra import IN_CI, Endpoints
from tests.support.invoices import record_payment
from tests.support.leads import captured, new_run_id
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def secrets(endpoints: Endpoints) -> Path:
    if endpoints.secrets is None:
        message = "these servers have no local secrets (no SASL users, no roles)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return endpoints.secrets


def as_principal(secrets: Path, name: str) -> KafkaSecurity:
    return KafkaSecurity().as_principal(name, password_file(secrets, "kafka", name))


async def _send(endpoints: Endpoints, security: KafkaSecurity, topic: str, value: bytes) -> None:
    producer = kafka_clients.producer(
        endpoints.kafka,
        security=security,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
    )
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"security-test"), 20)
    finally:
        await producer.stop()


async def test_an_unauthenticated_client_is_refused(endpoints: Endpoints, secrets: Path) -> None:
    plaintext = KafkaSecurity(security_protocol="PLAINTEXT")
    producer = kafka_clients.producer(endpoints.kafka, security=plaintext, request_timeout_ms=5000)
    started = time.monotonic()
    try:
        with pytest.raises(kafka_errors.KafkaError):
            await asyncio.wait_for(producer.start(), 30)
            await asyncio.wait_for(producer.send_and_wait("lead.captured", b"{}"), 15)
    finally:
        await producer.stop()
    assert time.monotonic() - started < 30


async def test_a_wrong_password_is_refused_at_once_with_a_clear_message(
    endpoints: Endpoints, secrets: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password\n")
    security = KafkaSecurity().as_principal("lead_svc", wrong)
    started = time.monotonic()
    with pytest.raises(kafka_clients.KafkaAccessRefused, match="refused the credentials"):
        await kafka_clients.check_access(endpoints.kafka, security)
    assert time.monotonic() - started < 5
    # the message names the user, never the password
    with pytest.raises(kafka_clients.KafkaAccessRefused) as refused:
        await kafka_clients.check_access(endpoints.kafka, security)
    assert "'lead_svc'" in str(refused.value)
    assert "not-the-password" not in str(refused.value)


async def test_a_worker_given_a_wrong_password_exits_within_seconds(
    endpoints: Endpoints, secrets: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password\n")
    worker = WorkerProcess(
        "lead",
        endpoints,
        tmp_path / "lead.log",
        SALESFLOW_KAFKA_SASL_PASSWORD_FILE=str(wrong),
    ).start()
    started = time.monotonic()
    code = await worker.wait_exit(timeout_s=20)
    assert code == 3, worker.tail()
    assert time.monotonic() - started < 20
    log = worker.tail()
    assert "refused the credentials of 'lead_svc'" in log
    assert "not-the-password" not in log
    assert "Traceback" not in log


async def test_lead_svc_cannot_write_invoice_commands(endpoints: Endpoints, secrets: Path) -> None:
    lead_svc = as_principal(secrets, "lead_svc")
    with pytest.raises(kafka_errors.TopicAuthorizationFailedError):
        await _send(endpoints, lead_svc, "invoice.commands", b"{}")
    # what it may write, it writes
    await _send(endpoints, lead_svc, "lead_svc.dlq", b"{}")


async def test_lead_svc_cannot_join_another_workers_group(
    endpoints: Endpoints, secrets: Path
) -> None:
    consumer = kafka_clients.consumer(
        "lead.captured",
        bootstrap=endpoints.kafka,
        security=as_principal(secrets, "lead_svc"),
        group_id="quote_svc",
        enable_auto_commit=False,
    )
    try:
        with pytest.raises(kafka_errors.GroupAuthorizationFailedError):
            await consumer.start()
            await asyncio.wait_for(consumer.getmany(timeout_ms=5000), 20)
    finally:
        await consumer.stop()


async def test_lead_svc_cannot_read_what_it_does_not_consume(
    endpoints: Endpoints, secrets: Path
) -> None:
    consumer = kafka_clients.consumer(
        "invoice.paid",
        bootstrap=endpoints.kafka,
        security=as_principal(secrets, "lead_svc"),
        group_id="lead_svc",
        enable_auto_commit=False,
    )
    try:
        with pytest.raises(kafka_errors.TopicAuthorizationFailedError):
            await consumer.start()
            await asyncio.wait_for(consumer.getmany(timeout_ms=5000), 20)
    finally:
        await consumer.stop()


async def test_the_web_forms_publish_leads_but_not_payments(
    endpoints: Endpoints, secrets: Path
) -> None:
    web_forms = as_principal(secrets, WEB_FORMS)
    lead = captured(f"L-sec-{new_run_id()}")
    await _send(endpoints, web_forms, "lead.captured", encode(lead))
    with pytest.raises(kafka_errors.TopicAuthorizationFailedError):
        await _send(
            endpoints,
            web_forms,
            "invoice.commands",
            encode(record_payment(f"deal-{uuid4()}", "10.00", invoice_id=uuid4())),
        )


async def test_the_tls_listener_authenticates_and_verifies_the_broker(
    endpoints: Endpoints, secrets: Path
) -> None:
    tls = os.environ.get("SALESFLOW_KAFKA_TLS_BOOTSTRAP")
    assert tls, "infra/up.sh names the TLS listener in SALESFLOW_KAFKA_TLS_BOOTSTRAP"
    ca = secrets / "tls" / "ca.pem"
    over_tls = as_principal(secrets, WEB_FORMS).model_copy(
        update={"security_protocol": "SASL_SSL", "ssl_cafile": ca}
    )
    await kafka_clients.check_access(tls, over_tls)
    await _send(
        Endpoints(tls, endpoints.database_url, None),
        over_tls,
        "lead.captured",
        encode(captured(f"L-tls-{new_run_id()}")),
    )
    # with a client certificate too (mutual TLS, as some managed clusters ask)
    mutual = over_tls.model_copy(
        update={
            "ssl_certfile": secrets / "tls" / "client.crt",
            "ssl_keyfile": secrets / "tls" / "client.key",
        }
    )
    await kafka_clients.check_access(tls, mutual)
    # a broker whose certificate the configured CA did not sign is refused at once
    stranger = over_tls.model_copy(update={"ssl_cafile": secrets / "tls" / "client.crt"})
    started = time.monotonic()
    with pytest.raises(kafka_clients.KafkaAccessRefused, match="TLS with Kafka"):
        await kafka_clients.check_access(tls, stranger)
    assert time.monotonic() - started < 5


async def _connect_as(endpoints: Endpoints, secrets: Path, role: str) -> asyncpg.Connection:
    url = make_url(endpoints.database_url)
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        database=url.database,
        user=role,
        password=password_file(secrets, "pg", role).read_text().strip(),
    )


async def test_quote_svc_cannot_read_invoice_svc_tables(
    endpoints: Endpoints, secrets: Path
) -> None:
    conn = await _connect_as(endpoints, secrets, "quote_svc")
    try:
        assert await conn.fetchval("SELECT count(*) >= 0 FROM quote_svc.quotes")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("SELECT count(*) FROM invoice_svc.invoices")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE invoice_svc.intruder (x int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (x int)")
    finally:
        await conn.close()


async def test_every_table_belongs_to_its_service(endpoints: Endpoints, secrets: Path) -> None:
    conn = await _connect_as(endpoints, secrets, "salesflow_reader")
    try:
        rows = await conn.fetch(
            "SELECT schemaname, tablename, tableowner FROM pg_tables"
            " WHERE schemaname LIKE '%\\_svc'"
        )
        assert rows
        assert {(r["schemaname"], r["tableowner"]) for r in rows} == {
            (r["schemaname"], r["schemaname"]) for r in rows
        }
    finally:
        await conn.close()


async def test_the_reporting_role_reads_every_schema_and_writes_none(
    endpoints: Endpoints, secrets: Path
) -> None:
    conn = await _connect_as(endpoints, secrets, "salesflow_reader")
    try:
        await conn.fetchval("SELECT count(*) FROM invoice_svc.invoices")
        await conn.fetchval("SELECT count(*) FROM lead_svc.leads")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM invoice_svc.invoices")
    finally:
        await conn.close()


async def test_a_worker_role_connects_over_tls_verifying_the_server(
    endpoints: Endpoints, secrets: Path
) -> None:
    settings = RuntimeSettings(
        database_url=endpoints.database_url,  # type: ignore[arg-type]
        database_user="order_svc",
        database_password_file=password_file(secrets, "pg", "order_svc"),
        database_sslmode="verify-full",
        database_sslrootcert=secrets / "tls" / "ca.pem",
    )
    engine = make_engine(settings.sqlalchemy_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                )
            ).one()
    finally:
        await engine.dispose()
    assert tuple(row) == ("order_svc", True)


async def test_the_gateway_publishes_commands_but_no_events_and_joins_no_group(
    endpoints: Endpoints, secrets: Path
) -> None:
    gateway = as_principal(secrets, GATEWAY)
    await _send(endpoints, gateway, "lead.captured", encode(captured(f"L-gw-{new_run_id()}")))
    for forbidden in ("invoice.paid", "lead_svc.dlq"):
        with pytest.raises(kafka_errors.TopicAuthorizationFailedError):
            await _send(endpoints, gateway, forbidden, b"{}")
    consumer = kafka_clients.consumer(
        "lead.captured",
        bootstrap=endpoints.kafka,
        security=gateway,
        group_id="lead_svc",
        enable_auto_commit=False,
    )
    try:
        with pytest.raises(kafka_errors.GroupAuthorizationFailedError):
            await consumer.start()
            await asyncio.wait_for(consumer.getmany(timeout_ms=5000), 20)
    finally:
        await consumer.stop()


async def test_the_gateway_role_owns_its_schema_and_only_reads_the_books(
    endpoints: Endpoints, secrets: Path
) -> None:
    # its migrations, as a gateway runs them at start: as its own role
    password = password_file(secrets, "pg", GATEWAY).read_text().strip()
    url = database_url(endpoints.database_url, user=GATEWAY, password=password)
    await upgrade_async(url, GATEWAY, location="gateway:migrations")
    conn = await _connect_as(endpoints, secrets, GATEWAY)
    try:
        owners = await conn.fetch("SELECT tableowner FROM pg_tables WHERE schemaname = 'gateway'")
        assert owners
        assert {r["tableowner"] for r in owners} == {"gateway"}
        # the trace and receivables endpoints read the services' tables, as the reports do
        await conn.fetchval("SELECT count(*) FROM order_svc.orders")
        await conn.fetchval("SELECT count(*) FROM invoice_svc.invoices")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM invoice_svc.invoices")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE lead_svc.intruder (x int)")
    finally:
        await conn.close()
