"""The connections the HTTP server holds: at most ``max_connections``, each request whole within a deadline.

uvicorn's httptools protocol closes a keep-alive connection idle between requests, but waits forever for a
request that never comes or comes a byte at a time, and accepts connections until descriptors run
out: 1,100 idle connections made ``/metrics`` time out and filled the log with failed ``accept()``s.
This subclass adds what uvicorn lacks (its ``limit_concurrency`` answers 503 to new requests
instead, which would let idle connections lock scrapers out):

- a request's headers and body must arrive within ``request_timeout`` seconds of its first byte (of
  the connection, for the first request), or the connection is dropped;
- a connection beyond ``max_connections`` drops the oldest one not serving a request (idle, or still
  sending one); when every one is serving, the new connection is dropped.

asyncio accepts up to the listen backlog of connections before any reaches the protocol, so the
backlog is kept small (:data:`ACCEPT_BACKLOG`): the descriptors the server may take are
``max_connections + ACCEPT_BACKLOG``. Nothing is logged per connection, so no client can grow the log;
if ``accept()`` still fails (the system is out of descriptors), that is logged once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Connections asyncio may accept at once before the protocol sees them (and the kernel's queue).
ACCEPT_BACKLOG = 64
#: Seconds between two log lines about ``accept()`` failing.
ACCEPT_LOG_EVERY = 60.0

log = logging.getLogger("loglens.http")


class GuardedServer(uvicorn.Server):
    """uvicorn's server, logging failed ``accept()`` calls once a minute instead of at each attempt."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._accept_failures = 0
        self._accept_logged_at: float | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Install the event loop's exception handler, then start as uvicorn does."""
        asyncio.get_running_loop().set_exception_handler(self._loop_exception)
        await super().startup(sockets)

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != "socket.accept() out of system resource":
            loop.default_exception_handler(context)
            return
        self._accept_failures += 1
        now = time.monotonic()
        if self._accept_logged_at is None or now - self._accept_logged_at >= ACCEPT_LOG_EVERY:
            log.warning(
                "the HTTP server cannot accept connections (%s; %d time(s) since the last report)",
                context.get("exception"), self._accept_failures,
            )  # fmt: skip
            self._accept_logged_at, self._accept_failures = now, 0


def guarded_protocol(max_connections: int, request_timeout: float) -> type[HttpToolsProtocol]:
    """An httptools protocol class for one server, with its own connection table."""
    held: dict[GuardedProtocol, None] = {}  # oldest first

    class GuardedProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with a connection cap and a request deadline."""

        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(held) >= max_connections and not _drop_oldest_idle():
                transport.abort()
                return
            held[self] = None
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            held.pop(self, None)
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._deadline is None and not self.transport.is_closing():
                self._arm()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._disarm()

        def serving(self) -> bool:
            """True while a request was received and its response is not complete."""
            return self.cycle is not None and not self.cycle.response_complete

        def drop(self) -> None:
            """Close at once, without a response."""
            held.pop(self, None)
            self._disarm()
            self.transport.abort()

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(request_timeout, self.drop)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

    def _drop_oldest_idle() -> bool:
        oldest = next((connection for connection in held if not connection.serving()), None)
        if oldest is None:
            return False
        oldest.drop()
        return True

    return GuardedProtocol
