"""Who may call the gateway, and proving it: API keys and HMAC-signed webhooks.

Each client is an upstream principal (`web-forms`, `erp-connector`, ...), which becomes the
envelope's `producer`, with the event types it may send (shell-style patterns: `lead.*`) and
the reads it may make. A client proves itself by one of:
- an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`. The settings hold either
  the key or its SHA-256 (hex), so a configuration file need not contain the secret itself;
- a webhook signature (the scheme Stripe and GitHub use): `X-Salesflow-Client: <principal>` and
  `X-Salesflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`;
  a signature older than the tolerance is refused, so a captured request cannot be replayed.
Pure: headers, body and the time in; a client or the reason it is refused out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, model_validator

API_KEY_HEADER = "x-api-key"
CLIENT_HEADER = "x-salesflow-client"
SIGNATURE_HEADER = "x-salesflow-signature"


class Read(StrEnum):
    """What a client may read besides sending."""

    TRACE = "trace"
    RECEIVABLES = "receivables"


class Client(BaseModel):
    """One upstream principal and its credential."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    principal: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Who the client is; written as the producer of what it sends.",
    )
    api_key: SecretStr | None = Field(default=None, description="The API key itself.")
    api_key_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the API key, hex."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret of HMAC-signed webhooks."
    )
    event_types: tuple[str, ...] = Field(
        default=(), description="Event types it may send; shell patterns such as `lead.*`."
    )
    reads: tuple[Read, ...] = Field(default=(), description="What it may read.")

    @model_validator(mode="after")
    def _one_credential(self) -> Client:
        given = [self.api_key, self.api_key_sha256, self.webhook_secret]
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                "a client has exactly one credential: api_key, api_key_sha256 or webhook_secret"
            )
        return self

    def may_send(self, event_type: str) -> bool:
        return any(fnmatchcase(event_type, pattern) for pattern in self.event_types)

    def may_read(self, what: Read) -> bool:
        return what in self.reads

    @property
    def key_digest(self) -> bytes | None:
        if self.api_key is not None:
            return hashlib.sha256(self.api_key.get_secret_value().encode()).digest()
        if self.api_key_sha256 is not None:
            return bytes.fromhex(self.api_key_sha256)
        return None

    @staticmethod
    def list_from_json(raw: bytes) -> tuple[Client, ...]:
        return _CLIENT_LIST.validate_json(raw)


_CLIENT_LIST = TypeAdapter(tuple[Client, ...])


class Refused(StrEnum):
    """Why a request is not let in (401); a client let in may still be refused an event type
    it was not given (403)."""

    NO_CREDENTIALS = "no_credentials"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    STALE_SIGNATURE = "stale_signature"


@dataclass(frozen=True, slots=True)
class Denied:
    reason: Refused
    detail: str


class Clients:
    """The configured clients, indexed by key digest and by principal."""

    def __init__(self, clients: Iterable[Client], *, tolerance_s: float) -> None:
        self._by_digest: dict[bytes, Client] = {}
        self._signers: dict[str, Client] = {}
        for client in clients:
            digest = client.key_digest
            if digest is not None:
                if digest in self._by_digest:
                    raise ValueError(f"two clients share an API key: {client.principal}")
                self._by_digest[digest] = client
            else:
                if client.principal in self._signers:
                    raise ValueError(f"two webhook secrets for {client.principal}")
                self._signers[client.principal] = client
        self._tolerance_s = tolerance_s

    def __len__(self) -> int:
        return len(self._by_digest) + len(self._signers)

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: float) -> Client | Denied:
        """The client a request comes from (header names lower case), or why not."""
        key = _api_key(headers)
        if key is not None:
            digest = hashlib.sha256(key.encode()).digest()
            # A dict lookup by digest: the time it takes says nothing about the key itself.
            client = self._by_digest.get(digest)
            if client is None:
                return Denied(Refused.UNKNOWN_KEY, "the API key is not known")
            return client
        signature = headers.get(SIGNATURE_HEADER)
        principal = headers.get(CLIENT_HEADER)
        if signature is None or principal is None:
            return Denied(
                Refused.NO_CREDENTIALS,
                "send an API key (Authorization: Bearer, X-API-Key) or a signed webhook "
                "(X-Salesflow-Client, X-Salesflow-Signature)",
            )
        signer = self._signers.get(principal)
        if signer is None or signer.webhook_secret is None:
            return Denied(Refused.BAD_SIGNATURE, "no webhook secret for this client")
        return _verify(signer, signer.webhook_secret, signature, body, now, self._tolerance_s)


def sign(secret: str, body: bytes, at: int) -> str:
    """The `X-Salesflow-Signature` value for `body` sent at unix time `at`."""
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def _api_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get(API_KEY_HEADER) or None


def _verify(
    client: Client, secret: SecretStr, header: str, body: bytes, now: float, tolerance_s: float
) -> Client | Denied:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        return Denied(Refused.BAD_SIGNATURE, "expected t=<unix seconds>,v1=<hex hmac>")
    expected = sign(secret.get_secret_value(), body, int(stamp)).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        return Denied(Refused.BAD_SIGNATURE, "the signature does not match the body")
    if abs(now - int(stamp)) > tolerance_s:
        return Denied(Refused.STALE_SIGNATURE, f"signed more than {tolerance_s:.0f} s from now")
    return client
