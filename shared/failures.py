"""Which failures are the infrastructure's and which are the message's.

The runtime, the relay and start-up all ask this one question: retry (the database or the broker
is down) or blame the data (replay message by message, dead-letter the guilty one)?
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
from aiokafka import errors as kafka_errors
from sqlalchemy import exc

from shared import kafka_clients

# Only data exceptions (class 22) and integrity violations (class 23) are blamed on the message.
# Every other SQLSTATE (connection loss, shutdown, lock timeouts, but also a missing table after a
# forgotten migration) is retried: parking good messages because the database was down or
# misconfigured would turn an outage into data loss for the operator to re-drive.
_DATA_SQLSTATE_PREFIXES = ("22", "23")
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    kafka_errors.KafkaError,
)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it wraps (SQLAlchemy's `orig`, `__cause__`, `__context__`), depth
    first, each once."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = (current.__context__, current.__cause__, getattr(current, "orig", None))
        stack.extend(e for e in inner if isinstance(e, BaseException) and id(e) not in seen)


def root_cause(error: BaseException) -> BaseException:
    """The innermost cause (for a driver error wrapped by SQLAlchemy: the driver's own)."""
    *_, last = _causes(error)
    return last


def is_transient(error: BaseException) -> bool:
    """True when the failure is about the infrastructure, not about the message."""
    for cause in _causes(error):
        if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate:
            return not sqlstate.startswith(_DATA_SQLSTATE_PREFIXES)
        if isinstance(cause, _TRANSIENT_TYPES):
            return True
    return False


def access_refused(error: BaseException) -> str | None:
    """Why a server refused us (credentials, certificate, permission), or None when `error` is
    something else. Start-up gives up on these at once: retrying cannot fix a password."""
    kind = kafka_clients.refusal(error)
    if kind is not None:
        for cause in _causes(error):
            if isinstance(cause, kafka_clients.KafkaAccessRefused):
                return str(cause)
        return f"Kafka refused access ({kind}): {describe(error)}"
    for cause in _causes(error):
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        # 28: invalid authorization (wrong password, unknown role); 42501: not allowed
        if isinstance(sqlstate, str) and (sqlstate.startswith("28") or sqlstate == "42501"):
            return (
                f"PostgreSQL refused access: {describe(cause)} (check SALESFLOW_DATABASE_USER, "
                "SALESFLOW_DATABASE_PASSWORD or _PASSWORD_FILE and the role's grants)"
            )
    return None


def is_broker_failure(error: BaseException) -> bool:
    """True when Kafka, not PostgreSQL, failed (readiness reports the two apart)."""
    return isinstance(root_cause(error), kafka_errors.KafkaError)


# The broker and the idempotent producer no longer agree on the producer's sequence numbers,
# or on the producer id itself. Seen after every node of a cluster was SIGKILLed at once (seed
# 20261405) and after two clean restarts of a single node (seed 20261309), RELIABILITY.md. The
# same producer never gets past it: aiokafka's sender routine re-raises OutOfOrderSequenceNumber
# and stops, so every later send of that producer fails the same way. A new producer gets a new
# producer id and numbers its records from zero.
_PRODUCER_STATE_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.OutOfOrderSequenceNumber,
    kafka_errors.UnknownProducerId,
    kafka_errors.InvalidProducerEpoch,
    kafka_errors.InvalidProducerIdMapping,
)


def producer_state_lost(error: BaseException) -> bool:
    """True when only a new producer (a new producer id) can send again."""
    return any(isinstance(cause, _PRODUCER_STATE_ERRORS) for cause in _causes(error))


def describe(error: BaseException) -> str:
    """`Class: message` of the root cause, for readiness details and logs.

    A driver's message may quote a statement's parameters (ids, names, emails), so it is cut
    short here and never used as a dead-letter text (see shared.deadletter)."""
    cause = root_cause(error)
    return f"{type(cause).__name__}: {str(cause)[:200]}"
