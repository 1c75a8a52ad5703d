"""Liveness, readiness and metrics over a tiny HTTP server on the worker's own event loop.

`/healthz` answers while the loop turns; `/readyz` answers 200 only while the database and the
broker are reachable and the consumer has joined its group; `/metrics` is Prometheus text.
Written on asyncio streams rather than pulling a web framework into every worker: three GET
routes, no bodies to parse.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import orjson
import structlog

from shared.metrics import WorkerMetrics

log = structlog.stdlib.get_logger("salesflow.health")


@dataclass
class Readiness:
    """What /readyz reports; set by the runtime, the relay and the rebalance listener."""

    database: bool = False
    broker: bool = False
    assigned: bool = False
    moving: bool = True
    details: dict[str, str] = field(default_factory=dict)

    def set_database(self, *, ok: bool, detail: str = "") -> None:
        self.database = ok
        self._detail("database", ok, detail)

    def set_broker(self, *, ok: bool, detail: str = "") -> None:
        self.broker = ok
        self._detail("broker", ok, detail)

    def set_assigned(self, *, ok: bool, detail: str = "") -> None:
        self.assigned = ok
        self._detail("consumer", ok, detail)

    def set_moving(self, *, ok: bool, detail: str = "") -> None:
        """False while a partition's position has not moved for a while although records wait
        (shared.progress): the worker is up but one of its partitions is stuck."""
        self.moving = ok
        self._detail("partitions", ok, detail)

    def _detail(self, name: str, ok: bool, detail: str) -> None:
        if ok:
            self.details.pop(name, None)
        else:
            self.details[name] = detail[:300]

    @property
    def ready(self) -> bool:
        return self.database and self.broker and self.assigned and self.moving

    def as_json(self) -> bytes:
        return orjson.dumps(
            {
                "ready": self.ready,
                "database": self.database,
                "broker": self.broker,
                "consumer_assigned": self.assigned,
                "partitions_moving": self.moving,
                "details": self.details,
            }
        )


class HealthServer:
    def __init__(self, readiness: Readiness, metrics: WorkerMetrics, host: str, port: int) -> None:
        self._readiness = readiness
        self._metrics = metrics
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        log.info("health_server_listening", host=self._host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            parts = request.split(b" ", 2)
            path = parts[1].split(b"?", 1)[0] if len(parts) > 1 else b""
            status, ctype, body = self._route(path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()

    def _route(self, path: bytes) -> tuple[str, str, bytes]:
        if path == b"/healthz":
            return "200 OK", "application/json", b'{"alive":true}'
        if path == b"/readyz":
            status = "200 OK" if self._readiness.ready else "503 Service Unavailable"
            return status, "application/json", self._readiness.as_json()
        if path == b"/metrics":
            return "200 OK", "text/plain; version=0.0.4", self._metrics.render()
        return "404 Not Found", "text/plain", b"not found"
