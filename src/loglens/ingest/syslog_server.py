"""Syslog listeners (UDP and TCP) of ``loglens run``: messages into the ingest spool, as JSON lines.

One thread runs an asyncio loop with every listener. UDP has no answer and no flow control, so it is
lossy: what loglens cannot take (spool full or failing, over the rate limit, one source too many, a
message too long) is dropped and counted by reason, as are the datagrams the kernel dropped because its
receive buffer was full (read from ``/proc/net/udp``). TCP has flow control: while the spool cannot take
a connection's messages, loglens stops reading it, and the sender waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from loglens.clock import Clock
from loglens.config_sections import listen_address
from loglens.errors import LoglensError
from loglens.ingest.admission import Admission, Refused
from loglens.ingest.endpoint import IngestStats
from loglens.ingest.spool import Outgoing, Spool, SpoolFull
from loglens.ingest.syslog_messages import Framer, parse_message

log = logging.getLogger(__name__)

#: Bytes read from a TCP connection at once.
READ_BYTES = 64 * 1024
#: UDP messages waiting for the spool beyond which new datagrams are dropped.
MAX_UDP_WAITING = 10_000
#: Bytes of receive buffer asked for each UDP socket.
UDP_RECEIVE_BUFFER = 8 * 1024 * 1024
#: Seconds a TCP connection waits before it tries the spool again when the spool is full.
FULL_WAIT = 1.0


@dataclass
class SyslogStats:
    """What the listeners did, for ``/metrics``."""

    messages: Counter[str] = field(default_factory=Counter)  # transport -> messages spooled
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (transport, reason) -> messages
    connections: int = 0  # TCP connections open
    kernel_drops: dict[str, int] = field(default_factory=dict)  # UDP listener -> drops seen in /proc


class SyslogListeners:
    """The listeners of ``urls`` over ``spool``, as a view of the runtime (bound, started and stopped
    with it)."""

    def __init__(
        self,
        urls: list[str],
        spool: Spool,
        admission: Admission,
        ingest: IngestStats,
        clock: Clock,
        *,
        max_line_bytes: int,
        max_connections: int,
        timezone: str = "UTC",
    ) -> None:
        self.urls = urls
        self.spool = spool
        self.admission = admission
        self.ingest = ingest
        self.clock = clock
        self.max_line_bytes = max_line_bytes
        self.max_connections = max_connections
        self.timezone = timezone
        self.stats = SyslogStats()
        self.sockets: list[tuple[str, socket.socket]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._udp_waiting = 0  # messages handed to the spool, not yet durable
        self._udp_pending: list[bytes] = []  # datagrams received in this pass of the loop
        self._failure: BaseException | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def bind(self, runtime: object) -> None:
        """Bind every listener's socket now, so that a port in use stops the start.

        Raises:
            LoglensError: an address cannot be bound.
        """
        for url in self.urls:
            transport, host, port = listen_address(url)
            kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
            try:
                family, _, proto, _, address = socket.getaddrinfo(host, port, type=kind)[0]
                sock = socket.socket(family, kind, proto)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                if transport == "tcp":
                    sock.listen(128)
            except OSError as exc:
                raise LoglensError(f"cannot listen for syslog on {url}: {exc.strerror or exc}") from None
            if transport == "udp":  # room for bursts (the kernel caps it at net.core.rmem_max)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
            sock.setblocking(False)
            self.sockets.append((transport, sock))

    def addresses(self) -> list[tuple[str, str, int]]:
        """(transport, host, port) of each listener as bound (port 0 asks for any free one)."""
        return [(transport, *sock.getsockname()[:2]) for transport, sock in self.sockets]

    def start(self) -> None:
        """Serve in a thread of its own.

        Raises:
            LoglensError: the listeners could not start.
        """
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="loglens-syslog", daemon=True)
        self._thread.start()
        ready.wait(10)
        if self._failure is not None:
            raise LoglensError(f"the syslog listeners cannot start: {self._failure}")

    def stop(self) -> None:
        """Stop listening; what was received is in the spool's queue already."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        for _, sock in self.sockets:
            sock.close()
        self.sockets = []

    def _serve(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            for transport, sock in self.sockets:
                if transport == "udp":
                    loop.run_until_complete(
                        loop.create_datagram_endpoint(lambda: _Datagrams(self), sock=sock)
                    )
                else:
                    loop.run_until_complete(asyncio.start_server(self._connection, sock=sock))
            ready.set()
            loop.run_forever()
        except Exception as exc:  # reported by start(), in the starting thread
            self._failure = exc
        finally:
            ready.set()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # -- messages --------------------------------------------------------------------------------------

    def _frames(self, messages: list[bytes], transport: str) -> list[Outgoing]:
        """The spool frames of ``messages``, by source; those loglens cannot take are counted as dropped.

        Raises:
            Refused: over the rate limit (its wait in ``retry_after``).
        """
        now = self.clock.now()
        by_source: dict[str, list[str]] = {}
        for raw in messages:
            source, line = parse_message(raw, now, self.timezone)
            if len(line) > self.max_line_bytes // 4 and len(line.encode()) > self.max_line_bytes:
                self.stats.dropped[transport, "too_long"] += 1
                continue
            by_source.setdefault(source, []).append(line)
        frames = []
        for source, lines in by_source.items():
            try:
                self.admission.source_and_format(source, "json")
            except Refused:
                self.stats.dropped[transport, "max_sources"] += len(lines)
                continue
            self.admission.take(source, len(lines))
            frames.append(Outgoing(source, "json", lines))
        return frames

    def _submitted(self, frames: list[Outgoing], transport: str) -> Future[None]:
        """``frames`` queued in the spool; once durable they are counted (in the loop's thread).

        Raises:
            SpoolFull: the spool is full.
        """
        done = self.spool.submit_many(frames)
        loop = self._loop
        assert loop is not None

        def count(future: Future[None]) -> None:
            loop.call_soon_threadsafe(self._count, frames, transport, future.exception() is None)

        done.add_done_callback(count)
        return done

    def _count(self, frames: list[Outgoing], transport: str, durable: bool) -> None:
        total = sum(len(frame.lines) for frame in frames)
        if not durable:
            if transport == "udp":  # (TCP tries the same messages again)
                self.stats.dropped[transport, "spool_error"] += total
            return
        self.stats.messages[transport] += total
        for source, _, lines, _ in frames:
            self.ingest.accepted[source] += len(lines)

    def take_datagram(self, data: bytes) -> None:
        """One UDP message, spooled with the others received in the same pass of the loop."""
        if self._udp_waiting + len(self._udp_pending) >= MAX_UDP_WAITING:
            self.stats.dropped["udp", "overloaded"] += 1
            return
        self._udp_pending.append(data)
        if len(self._udp_pending) == 1 and self._loop is not None:
            self._loop.call_soon(self._flush_datagrams)

    def _flush_datagrams(self) -> None:
        """Spool the datagrams received since the last pass as one write, or drop and count them."""
        messages, self._udp_pending = self._udp_pending, []
        try:
            frames = self._frames(messages, "udp")
        except Refused:
            self.stats.dropped["udp", "rate_limit"] += len(messages)
            return
        if not frames:
            return
        waiting = sum(len(frame.lines) for frame in frames)
        try:
            done = self._submitted(frames, "udp")
        except SpoolFull:
            self.stats.dropped["udp", "spool_full"] += waiting
            return
        self._udp_waiting += waiting
        loop = self._loop
        assert loop is not None
        done.add_done_callback(lambda _: loop.call_soon_threadsafe(self._udp_done, waiting))

    def _udp_done(self, count: int) -> None:
        self._udp_waiting -= count

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One TCP connection, framed as its first byte says, until it closes."""
        if self.stats.connections >= self.max_connections:
            self.stats.dropped["tcp", "max_connections"] += 1
            writer.close()
            return
        self.stats.connections += 1
        framer = Framer(self.max_line_bytes)
        try:
            while True:
                data = await reader.read(READ_BYTES)
                messages = framer.feed(data) if data else framer.close()
                if framer.dropped:
                    self.stats.dropped["tcp", "too_long"] += framer.dropped
                    framer.dropped = 0
                if messages:
                    await self._spool_tcp(messages)
                if framer.broken:
                    self.stats.dropped["tcp", "bad_frame"] += 1
                    break
                if not data:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self.stats.connections -= 1
            writer.close()

    async def _spool_tcp(self, messages: list[bytes]) -> None:
        """Spool ``messages``, waiting (and so not reading the connection) while the spool cannot."""
        while True:
            try:
                frames = self._frames(messages, "tcp")
                if frames:
                    await asyncio.wrap_future(self._submitted(frames, "tcp"))
                return
            except Refused as exc:
                await asyncio.sleep(exc.retry_after or FULL_WAIT)
            except SpoolFull:
                await asyncio.sleep(FULL_WAIT)
            except OSError:
                await asyncio.sleep(FULL_WAIT)  # the spool cannot write: the same messages again

    def read_kernel_drops(self) -> None:
        """Take the UDP listeners' drop counts from ``/proc/net/udp`` (Linux; elsewhere none)."""
        for transport, sock in self.sockets:
            if transport == "udp":
                drops = _kernel_drops(sock)
                if drops is not None:
                    host, port = sock.getsockname()[:2]
                    self.stats.kernel_drops[f"{host}:{port}"] = drops


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, listeners: SyslogListeners) -> None:
        self.listeners = listeners

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.listeners.take_datagram(data)


def _kernel_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for ``sock`` (its receive buffer full), as ``/proc/net/udp`` says."""
    inode = str(os.fstat(sock.fileno()).st_ino)
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            columns = row.split()
            if len(columns) >= 13 and columns[9] == inode:
                return int(columns[-1])
    return None
