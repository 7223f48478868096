"""Ingest endpoints that speak another system's protocol (Loki, OTLP, Elasticsearch): the part they share.

Each request passes the same gate as ``POST /api/logs``: the bearer token (``ingest.token``), the body
limit (``ingest.max_body_bytes``, unzipped), the source and format checks, the per-source rate and the
spool; it is answered only once its lines are fsynced, all of a request's streams in one spool write.
A :class:`Protocol` turns the body into lines by source, and says how the protocol answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol as Interface
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from loglens.config_sections import IngestConfig
from loglens.ingest.admission import Admission, Refused
from loglens.ingest.bodies import BadBody, Lines
from loglens.ingest.endpoint import Header, IngestStats, SpoolEndpoint, send_answer
from loglens.ingest.spool import Outgoing, Spool

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.:/@+-]")


def source_name(value: str) -> str:
    """``value`` made a source name: characters a name cannot hold become ``_``, at most 200."""
    return _NOT_NAME.sub("_", value[:200])


@dataclass
class Streams:
    """The lines of one request, by source (None: the request's or the configured default source).

    ``formats`` names a format for a source whose lines the protocol builds itself (JSON records).
    """

    lines: dict[str | None, Lines] = field(default_factory=dict)
    formats: dict[str | None, str] = field(default_factory=dict)
    rejected: int = 0  # items that are no line at all (beyond those of each Lines)
    errors: list[str] = field(default_factory=list)

    def of(self, source: str | None, format_: str | None = None) -> Lines:
        """The lines of ``source``, created empty."""
        if format_ is not None:
            self.formats[source] = format_
        return self.lines.setdefault(source, Lines())

    def total(self) -> tuple[int, int]:
        """Lines taken and items refused, over every source."""
        taken = sum(len(lines.lines) for lines in self.lines.values())
        return taken, self.rejected + sum(lines.rejected for lines in self.lines.values())


class Protocol(Interface):
    """How one protocol reads its bodies and answers."""

    name: str  # the endpoint label of loglens_ingest_requests_total
    methods: tuple[str, ...]

    def decode(self, body: bytes, headers: Headers, max_line_bytes: int) -> Streams:
        """The lines of an unzipped body (its own compression, like Loki's snappy, undone here).

        Raises:
            BadBody: the body cannot be read (400, or 413/415).
        """

    def accepted(self, streams: Streams, headers: Headers) -> tuple[int, list[Header], bytes]:
        """The answer once the lines are durable: status, headers, body."""

    def refused(self, status: int, message: str, headers: Headers) -> tuple[list[Header], bytes]:
        """The headers and body of a refusal with ``status``."""


class ProtocolEndpoint(SpoolEndpoint):
    """One protocol's endpoint as a plain ASGI app (as :class:`~loglens.ingest.routes.IngestEndpoint`)."""

    def __init__(
        self,
        protocol: Protocol,
        config: IngestConfig,
        spool: Spool,
        admission: Admission,
        stats: IngestStats,
        max_line_bytes: int,
    ) -> None:
        super().__init__(config, spool, admission, stats, max_line_bytes)
        self.protocol = protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        extra: list[Header] = []
        if scope["method"] not in self.protocol.methods:
            allowed = ", ".join(self.protocol.methods)
            status, message = 405, f"{scope['method']} is not allowed here: {allowed}"
            extra.append((b"allow", allowed.encode()))
        elif not self.allows(headers):
            status, message = 401, "a bearer token is required: Authorization: Bearer <ingest.token>"
            extra.append((b"www-authenticate", b"Bearer"))
        else:
            try:
                status, answer_headers, body = await self._take(scope, headers, receive)
                await self._answer(send, status, answer_headers, body)
                return
            except (Refused, BadBody) as exc:
                status, message = exc.status, str(exc)
                retry = getattr(exc, "retry_after", None)
                if retry is not None:
                    extra.append((b"retry-after", str(retry).encode()))
        answer_headers, body = self.protocol.refused(status, message, headers)
        await self._answer(send, status, [*answer_headers, *extra], body)

    async def _take(
        self, scope: Scope, headers: Headers, receive: Receive
    ) -> tuple[int, list[Header], bytes]:
        """Spool the request's lines; the protocol's answer.

        Raises:
            Refused: source, format, rate or spool say no.
            BadBody: the body cannot be read.
        """
        body = await self.body(headers, receive)
        streams = self.protocol.decode(body, headers, self.max_line_bytes)
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"))) if scope["query_string"] else {}
        named_source = query.get("source") or headers.get("x-loglens-source")
        named_format = query.get("format") or headers.get("x-loglens-format")
        frames: list[Outgoing] = []
        rejected: dict[str, int] = {}
        for hint, lines in streams.lines.items():
            source, format_ = self.admission.source_and_format(
                named_source or hint, streams.formats.get(hint) or named_format
            )
            self.admission.take(source, len(lines.lines))
            rejected[source] = rejected.get(source, 0) + lines.rejected
            if lines.lines:
                frames.append(Outgoing(source, format_, lines.lines, lines.attributes))
        await self.spool_frames(frames)
        for frame in frames:
            self.stats.accepted[frame.source] += len(frame.lines)
        default = named_source or self.config.source
        rejected[default] = rejected.get(default, 0) + streams.rejected
        for source, count in rejected.items():
            if count:
                self.stats.rejected[source] += count
        return self.protocol.accepted(streams, headers)

    async def _answer(self, send: Send, status: int, headers: list[Header], body: bytes) -> None:
        self.stats.requests[self.protocol.name, status] += 1
        await send_answer(send, status, body, headers)
