"""Errors as RFC 9457 problem details (`application/problem+json`).

`type` is a relative URI naming the problem (`/problems/invalid-payload`), stable for clients
to branch on; `title` says it for people; `detail` says what was wrong with this request;
validation problems list each error (`errors`: where, what) the way the contracts report them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi.responses import Response

MEDIA_TYPE = "application/problem+json"

TITLES = {
    "invalid-payload": "The request does not match the contract",
    "not-json": "The body is not a JSON object",
    "missing-deal": "The request names no deal",
    "idempotency-key-reused": "The idempotency key was used for another request",
    "unauthenticated": "Credentials missing or not valid",
    "forbidden": "This client may not do that",
    "unknown-event-type": "No such inbound event type",
    "not-found": "Nothing found",
    "too-large": "The body is too large",
    "unavailable": "The gateway cannot accept requests now",
}


def problem(
    status: int,
    kind: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": TITLES[kind],
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return Response(orjson.dumps(body), status, headers=headers, media_type=MEDIA_TYPE)


def validation_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's (or FastAPI's) error list as `{"pointer", "detail"}` items; the offending
    input is never echoed (it may hold personal data)."""
    found = []
    for error in raw:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] == "body":
            location = location[1:]
        found.append({"pointer": "/" + "/".join(location), "detail": str(error.get("msg", ""))})
    return found


# For the OpenAPI document: every error response has this shape.
PROBLEM_SCHEMA: dict[str, Any] = {
    "content": {
        MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string", "examples": ["/problems/invalid-payload"]},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "pointer": {"type": "string", "examples": ["/payload/currency"]},
                                "detail": {"type": "string"},
                            },
                        },
                    },
                },
            }
        }
    },
    "description": "An RFC 9457 problem.",
}
