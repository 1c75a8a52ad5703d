"""Kafka ACLs from the access model (`contracts.access`): the bindings, written and read back.

aiokafka's admin client has no ACL calls, so the two requests (CreateAcls, DescribeAcls, v1: what
Kafka 4 still speaks) are sent through it as raw protocol requests. Creating a binding that
exists is a no-op on the broker, so `apply` is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DescribeAclsRequest_v1,
)
from aiokafka.protocol.api import Request

from contracts.access import PRINCIPALS, Principal
from shared import kafka_clients
from shared.kafka_security import KafkaSecurity

__all__ = ["Binding", "apply", "bindings", "bindings_of", "describe"]


class Resource(IntEnum):
    TOPIC = 2
    GROUP = 3


class Pattern(IntEnum):
    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    ANY = 1
    READ = 3
    WRITE = 4
    CREATE = 5


ALLOW = 3
ANY_PERMISSION = 1
ANY_RESOURCE = 1


@dataclass(frozen=True, slots=True, order=True)
class Binding:
    """One ALLOW rule: `principal` may `operation` the `resource` called (or prefixed) `name`."""

    principal: str
    resource: str
    name: str
    pattern: str
    operation: str

    def wire(self) -> tuple[int, str, int, str, str, int, int]:
        return (
            Resource[self.resource],
            self.name,
            Pattern[self.pattern],
            f"User:{self.principal}",
            "*",
            Operation[self.operation],
            ALLOW,
        )


def bindings_of(principal: Principal) -> list[Binding]:
    """What the principal may do; a super user needs (and gets) no binding."""
    if principal.super_user:
        return []
    name = principal.name
    found = [Binding(name, "TOPIC", t, "LITERAL", "WRITE") for t in principal.writes]
    found += [Binding(name, "TOPIC", t, "LITERAL", "READ") for t in principal.reads]
    found += [Binding(name, "TOPIC", t, "LITERAL", "CREATE") for t in principal.creates]
    if principal.group:
        pattern = "PREFIXED" if principal.group_is_prefix else "LITERAL"
        found.append(Binding(name, "GROUP", principal.group, pattern, "READ"))
    return found


def bindings(principals: Iterable[Principal] = PRINCIPALS) -> list[Binding]:
    return [b for p in principals for b in bindings_of(p)]


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc] # aiokafka is untyped
    API_KEY = 30

    def __init__(self, creations: list[tuple[Any, ...]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


class _DescribeAcls(Request[DescribeAclsRequest_v1]):  # type: ignore[misc] # aiokafka is untyped
    API_KEY = 29

    def build(self, request_struct_class: type[DescribeAclsRequest_v1]) -> DescribeAclsRequest_v1:
        # every binding: any resource, any name and pattern, any principal, host, operation
        return request_struct_class(
            ANY_RESOURCE, None, Pattern.ANY, None, None, Operation.ANY, ANY_PERMISSION
        )


async def apply(
    bootstrap: str, wanted: list[Binding], *, security: KafkaSecurity | None = None
) -> list[Binding]:
    """Create the bindings the broker does not have yet; returns those."""
    present = set(await describe(bootstrap, security=security))
    missing = sorted(set(wanted) - present)
    if not missing:
        return []
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-acl")
    await admin.start()
    try:
        response = await admin._send_request(_CreateAcls([b.wire() for b in missing]))
    finally:
        await admin.close()
    failures = [
        (binding, code, message)
        for binding, (code, message) in zip(missing, response.creation_responses, strict=True)
        if code != 0
    ]
    if failures:
        raise RuntimeError(f"the broker refused ACLs: {failures}")
    return missing


async def describe(bootstrap: str, *, security: KafkaSecurity | None = None) -> list[Binding]:
    """Every ALLOW binding the broker holds for a user principal."""
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-acl")
    await admin.start()
    try:
        response = await admin._send_request(_DescribeAcls())
    finally:
        await admin.close()
    if response.error_code != 0:
        raise RuntimeError(f"DescribeAcls failed: {response.error_code} {response.error_message}")
    found = []
    for resource_type, name, pattern, acls in response.resources:
        for principal, _host, operation, permission in acls:
            if permission != ALLOW or not principal.startswith("User:"):
                continue
            try:
                found.append(
                    Binding(
                        principal.removeprefix("User:"),
                        Resource(resource_type).name,
                        name,
                        Pattern(pattern).name,
                        Operation(operation).name,
                    )
                )
            except ValueError:
                continue  # a kind of binding this model never makes
    return sorted(found)
