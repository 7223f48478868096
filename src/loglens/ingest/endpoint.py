"""What every HTTP endpoint over the ingest spool shares: its settings, the token, the body, the spool write.

:class:`~loglens.ingest.routes.IngestEndpoint` (``/api/logs``, ``/log_collector``) and
:class:`~loglens.ingest.protocol.ProtocolEndpoint` (Loki, OTLP, ``_bulk``) differ only in how they read a
body and answer; both answer only once :meth:`SpoolEndpoint.spool` returns, when the lines are fsynced.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable

from starlette.datastructures import Headers
from starlette.types import Receive, Send

from loglens.config_sections import IngestConfig
from loglens.ingest.admission import Admission, Refused
from loglens.ingest.bodies import BadBody, decompress
from loglens.ingest.spool import Outgoing, Spool, SpoolFull
from loglens.server.guards import bearer_allows, read_body

#: Seconds a client is told to wait when the spool is full.
SPOOL_FULL_RETRY = 5
Header = tuple[bytes, bytes]


class IngestStats:
    """What the ingest endpoints did, for ``/metrics``.

    The series known before the first request start at 0, so that ``rate()`` and the dashboards have
    them from the start: each endpoint's 200 answers, and the lines of the default ``source``.
    """

    def __init__(self, endpoints: Iterable[str] = (), source: str | None = None) -> None:
        self.requests: Counter[tuple[str, int]] = Counter({(name, 200): 0 for name in endpoints})
        self.accepted: Counter[str] = Counter({source: 0} if source is not None else {})  # lines
        self.rejected: Counter[str] = Counter(dict(self.accepted))  # items refused


class SpoolEndpoint:
    """The part of an ingest endpoint that does not depend on what it reads."""

    def __init__(
        self,
        config: IngestConfig,
        spool: Spool,
        admission: Admission,
        stats: IngestStats,
        max_line_bytes: int,
    ) -> None:
        self.config = config
        self.spool = spool
        self.admission = admission
        self.stats = stats
        self.max_line_bytes = max_line_bytes
        self.token = config.token.encode() if config.token else None

    def allows(self, headers: Headers) -> bool:
        """Whether the request carries the bearer token (always, with none configured)."""
        return bearer_allows(headers.get("authorization"), self.token)

    async def body(self, headers: Headers, receive: Receive) -> bytes:
        """The request's body, unzipped, at most ``ingest.max_body_bytes``.

        Raises:
            BadBody: too large (413), or an encoding that is not read or is broken.
        """
        limit = self.config.max_body_bytes
        body = await read_body(chunks(receive), headers.get("content-length", ""), limit)
        if body is None:
            raise BadBody(f"the body is over {limit} bytes (ingest.max_body_bytes)", 413)
        return decompress(body, headers.get("content-encoding", ""), limit)

    async def spool_frames(self, frames: list[Outgoing]) -> None:
        """Write ``frames`` to the spool; returns once they are fsynced.

        Raises:
            Refused: 503 with ``Retry-After``: the spool is full or cannot be written.
        """
        if not frames:
            return
        try:
            await asyncio.wrap_future(self.spool.submit_many(frames))
        except SpoolFull as exc:
            raise Refused(503, str(exc), SPOOL_FULL_RETRY) from None
        except OSError as exc:
            message = f"the spool cannot be written: {exc.strerror or exc}"
            raise Refused(503, message, SPOOL_FULL_RETRY) from None


async def chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; stops early when the client goes away."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        yield message.get("body", b"")
        if not message.get("more_body"):
            return


async def send_answer(send: Send, status: int, body: bytes, headers: list[Header]) -> None:
    """One whole HTTP answer."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
