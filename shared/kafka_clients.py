"""The one place Kafka clients are made: every producer, consumer, admin client and FastStream
broker of the project gets the security settings (`shared.kafka_security`) from here.

`security=None` reads them from the environment (`SALESFLOW_KAFKA_*`): what the CLI, bench, chaos,
the simulator and the tests do. A worker's composition root passes its own settings.

A client with wrong credentials would otherwise retry for minutes (aiokafka treats every failed
bootstrap as the broker being away): `check_access` connects once and turns a refused password,
an untrusted certificate or a denied operation into `KafkaAccessRefused`, whose message says
what to fix, and `refusal` recognises such a failure wherever it surfaces.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.conn import AIOKafkaConnection
from faststream.kafka import KafkaBroker

from shared.kafka_security import KafkaSecurity, KafkaSecurityError

__all__ = [
    "KafkaAccessRefused",
    "admin",
    "broker",
    "check_access",
    "client",
    "client_options",
    "consumer",
    "producer",
    "refusal",
]

_AUTHENTICATION = (
    kafka_errors.SaslAuthenticationFailed,
    kafka_errors.AuthenticationFailedError,
    kafka_errors.AuthenticationMethodNotSupported,
    kafka_errors.UnsupportedSaslMechanismError,
    kafka_errors.IllegalSaslStateError,
)
_AUTHORIZATION = (
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.GroupAuthorizationFailedError,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.TransactionalIdAuthorizationFailed,
)


class KafkaAccessRefused(Exception):  # noqa: N818 - it names what happened, like the broker's errors
    """The broker refused who we are or what we asked: retrying cannot help."""


def _security(security: KafkaSecurity | None) -> KafkaSecurity:
    try:
        return security if security is not None else KafkaSecurity()
    except ValueError as error:
        raise KafkaAccessRefused(f"Kafka security settings: {error}") from None


def client_options(security: KafkaSecurity | None = None) -> dict[str, Any]:
    """The connection options every aiokafka client takes (for code that builds its own, such as
    the ERP player, which speaks the published contracts alone)."""
    try:
        return _security(security).client_options()
    except (KafkaSecurityError, OSError, ssl.SSLError) as error:
        raise KafkaAccessRefused(f"Kafka security settings: {error}") from None


def producer(
    bootstrap: str, *, security: KafkaSecurity | None = None, **options: Any
) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **client_options(security), **options)


def consumer(
    *topics: str, bootstrap: str, security: KafkaSecurity | None = None, **options: Any
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, **client_options(security), **options
    )


def admin(
    bootstrap: str, *, security: KafkaSecurity | None = None, **options: Any
) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(security), **options)


def client(
    bootstrap: str, *, security: KafkaSecurity | None = None, **options: Any
) -> AIOKafkaClient:
    return AIOKafkaClient(bootstrap_servers=bootstrap, **client_options(security), **options)


def broker(bootstrap: str, *, security: KafkaSecurity | None = None, **options: Any) -> KafkaBroker:
    """FastStream's broker with the same settings."""
    settings = _security(security)
    try:
        faststream_security = settings.faststream()
    except (KafkaSecurityError, OSError, ssl.SSLError) as error:
        raise KafkaAccessRefused(f"Kafka security settings: {error}") from None
    # FastStream takes a string as ONE server ("a:1,b:2" then fails to bootstrap, as every worker
    # did against the first three-broker cluster); aiokafka splits it. A list for both.
    servers = [server.strip() for server in bootstrap.split(",") if server.strip()]
    return KafkaBroker(servers, security=faststream_security, **options)


async def check_access(
    bootstrap: str, security: KafkaSecurity | None = None, *, timeout_s: float = 10.0
) -> None:
    """Connect to the first bootstrap server that answers and authenticate.

    Raises `KafkaAccessRefused` when the broker refuses the credentials or the certificate;
    returns quietly when no server answers (the caller's retry waits for the broker)."""
    settings = _security(security)
    options = client_options(settings)
    for host, port in _servers(bootstrap):
        conn = AIOKafkaConnection(host, port, client_id="salesflow-access-check", **options)
        try:
            async with asyncio.timeout(timeout_s):
                await conn.connect()
        except (TimeoutError, ConnectionError) as error:
            conn.close()
            if refusal(error) is None:
                continue
            raise KafkaAccessRefused(_explain(error, settings, f"{host}:{port}")) from None
        except Exception as error:
            conn.close()
            if refusal(error) is None:
                raise
            raise KafkaAccessRefused(_explain(error, settings, f"{host}:{port}")) from None
        conn.close()
        return


def _servers(bootstrap: str) -> Iterator[tuple[str, int]]:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        yield host.strip("[]"), int(port)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def refusal(error: BaseException) -> str | None:
    """What kind of refusal `error` is ('authentication', 'certificate', 'authorization'), or
    None when it is something else (the broker away, a timeout)."""
    for cause in _causes(error):
        if isinstance(cause, KafkaAccessRefused):
            return "settings"
        if isinstance(cause, _AUTHENTICATION):
            return "authentication"
        if isinstance(cause, ssl.SSLCertVerificationError | ssl.SSLError):
            return "certificate"
        if isinstance(cause, _AUTHORIZATION):
            return "authorization"
    return None


def _explain(error: BaseException, settings: KafkaSecurity, server: str) -> str:
    kind = refusal(error)
    who = settings.describe()
    if kind == "authentication":
        return (
            f"Kafka at {server} refused the credentials of {who}: wrong password or unknown "
            "user (check SALESFLOW_KAFKA_SASL_USERNAME and SALESFLOW_KAFKA_SASL_PASSWORD or "
            "_PASSWORD_FILE, and SALESFLOW_KAFKA_SASL_MECHANISM)"
        )
    if kind == "certificate":
        return (
            f"TLS with Kafka at {server} failed for {who}: {_reason(error)} (check "
            "SALESFLOW_KAFKA_SSL_CAFILE, SALESFLOW_KAFKA_SSL_CERTFILE/_KEYFILE and that "
            "the address matches the broker's certificate)"
        )
    return f"Kafka at {server} refused {who}: {_reason(error)}"


def _reason(error: BaseException) -> str:
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLError):
            return str(cause.reason or cause)
    return type(error).__name__
