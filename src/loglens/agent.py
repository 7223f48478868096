"""The long-running agent behind ``loglens run``, embeddable in-process.

Two threads: the *tail loop* polls the files, folds batches into the totals and windows, and saves a
checkpoint every ``state.checkpoint_interval_seconds``; *uvicorn* serves the HTTP app. Polls and
checkpoints happen in the same thread, so a checkpoint's offsets and totals always agree.

    agent = Agent(settings).start()   # binds the port, restores the checkpoint, starts both threads
    print(agent.url)
    agent.stop()                      # final poll and checkpoint, then the server stops
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType

import uvicorn
from fastapi import APIRouter
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from loglens.aggregate.counters import Limits
from loglens.aggregate.totals import Totals
from loglens.aggregate.windows import Windows
from loglens.clock import Clock, SystemClock
from loglens.config import Settings
from loglens.errors import LoglensError
from loglens.parsing import build_parser
from loglens.push.collector import PushCollector
from loglens.push.routes import build_push_router
from loglens.push.store import PushStore
from loglens.records import Batch
from loglens.server.app import create_app
from loglens.server.insights_routes import build_insights_router
from loglens.server.status_routes import build_status_router
from loglens.sinks.prometheus import TotalsCollector
from loglens.sinks.prometheus_sources import SourceCollector
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_tail import FileFollower
from loglens.state.checkpoint import CheckpointStore, Snapshot

log = logging.getLogger("loglens.agent")


def source_specs(settings: Settings) -> list[SourceSpec]:
    """The sources of ``settings``, each with its effective format, checked.

    A source's own ``format`` or ``pattern`` wins over ``parse.format`` / ``parse.pattern``.

    Raises:
        FormatError: a format or pattern is unusable.
        SourceError: a literal path whose folder does not exist, or a compressed file.
    """
    specs = []
    for source in settings.sources:
        if source.pattern or "format" in source.model_fields_set:
            format_, pattern = source.format, source.pattern
        else:
            format_, pattern = settings.parse.format, settings.parse.pattern
        spec = SourceSpec(source.path, format_, pattern, source.name, dict(source.labels))
        spec.check()
        build_parser(format_, pattern, settings.parse.timezone)
        specs.append(spec)
    return specs


class Agent:
    """Follows the configured sources and serves ``/metrics`` and the API until stopped."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, routers: Iterable[APIRouter] = ()
    ) -> None:
        """Check the settings and build everything; nothing runs until :meth:`start`.

        Args:
            settings: the sources, listen address, state folder, limits...
            clock: time source (tests pass a frozen one).
            routers: extra routes to serve (besides status, insights and push).

        Raises:
            LoglensError: an unusable source, format or pattern.
        """
        self.settings = settings
        self.clock = clock or SystemClock()
        limits = settings.limits
        self.totals = Totals(Limits(limits.max_label_values, limits.section_limit))
        self.windows = Windows(
            lateness_seconds=limits.lateness_seconds,
            max_keys=limits.section_limit,
            future_skew_seconds=limits.future_skew_seconds,
        )
        self.follower = FileFollower(
            source_specs(settings),
            self.totals,
            clock=self.clock,
            from_start=settings.tail.from_start,
            rotate_wait=settings.tail.rotate_wait_seconds,
            max_line_bytes=settings.parse.max_line_bytes,
            timezone=settings.parse.timezone,
            listeners=[self._window],
        )
        self.store: CheckpointStore | None = None
        self.registry = CollectorRegistry()
        self.registry.register(TotalsCollector(self.totals))
        self.registry.register(SourceCollector(self.follower, self.totals, self._saved_at))
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        all_routers = [
            build_status_router(self.follower, self.totals, self.registry, self.clock, self._checkpoint_info),
            build_insights_router(self.windows, self.clock),
            self._push_router(),
            *routers,
        ]
        self.app = create_app(self.registry, all_routers)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._last_saved: Snapshot | None = None
        self._current_at: float | None = None  # the checkpoint holds the state as of this time

    def _push_router(self) -> APIRouter:
        """``POST /api/metrics``, its store registered on ``/metrics``."""
        store = PushStore(self.settings.push, self.clock)
        self.registry.register(PushCollector(store))
        return build_push_router(self.settings.push, store)

    @property
    def address(self) -> tuple[str, int]:
        """Host and port the server listens on (the real port when 0 was asked for)."""
        if self._socket is None:
            return self.settings.server.host, self.settings.server.port
        host, port = self._socket.getsockname()[:2]
        return host, port

    @property
    def url(self) -> str:
        """Base URL of the HTTP app."""
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> Agent:
        """Bind the listen address, take the state folder, restore the checkpoint, start both threads.

        Raises:
            LoglensError: the address cannot be bound or the state folder is in use.
        """
        self._socket = _bind(self.settings.server.host, self.settings.server.port)
        try:
            self.store = CheckpointStore(self.settings.state.dir)
            snapshot = self.store.load()
        except LoglensError:
            self._socket.close()
            if self.store is not None:
                self.store.close()
                self.store = None
            raise
        if snapshot is not None:
            self.follower.restore(snapshot)
            log.info("resuming from the checkpoint of %s", self.store.path)
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._threads = [
            threading.Thread(
                target=self._server.run, kwargs={"sockets": [self._socket]}, name="loglens-http"
            ),
            threading.Thread(target=self._loop, name="loglens-tail"),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop: a last poll and checkpoint, then the server closes."""
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        self.follower.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def checkpoint(self) -> None:
        """Save offsets and totals together, unless nothing changed since the last save."""
        if self.store is None:
            return
        snapshot = self.follower.snapshot()
        last = self._last_saved
        unchanged = last is not None and (last.files, last.totals, last.sources, last.specs) == (
            snapshot.files,
            snapshot.totals,
            snapshot.sources,
            snapshot.specs,
        )
        if not unchanged:
            self.store.save(snapshot)
            self._last_saved = snapshot
        self._current_at = snapshot.saved_at

    def _loop(self) -> None:
        tail, state = self.settings.tail, self.settings.state
        next_save = self.clock.now()  # the first poll is saved at once: it fixes where files start
        while not self._stop.is_set():
            more = self._guarded(self.follower.poll)
            now = self.clock.now()
            if now >= next_save:
                self.totals.expire(now - self.settings.limits.series_ttl_seconds)
                self._guarded(self.checkpoint)
                next_save = now + state.checkpoint_interval_seconds
            if not more:
                self._stop.wait(tail.poll_interval_seconds)
        self._guarded(self.follower.poll)
        self._guarded(self.checkpoint)

    @staticmethod
    def _guarded(step: Callable[[], object]) -> bool:
        """Run a loop step; an unexpected error is logged and the loop goes on."""
        try:
            return bool(step())
        except Exception:
            log.exception("error in the tail loop")
            return False

    def _window(self, batch: Batch) -> None:
        self.windows.add(batch.records, self.clock.now())

    def _saved_at(self) -> float | None:
        return self._current_at

    def _checkpoint_info(self) -> tuple[float | None, int]:
        store = self.store
        return (store.last_saved_at, store.saves) if store is not None else (None, 0)


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        LoglensError: the address is unknown or in use.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise LoglensError(f"cannot listen on {host}:{port}: {exc}") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise LoglensError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
