"""One connection to NATS, in an asyncio loop of its own thread, for the runtime's synchronous loop.

nats-py is asynchronous; the runtime's loop is a thread. A :class:`Link` runs the client in a daemon
thread, connects (retrying until it can: a NATS server that is not up yet, or restarting, is waited
for), makes sure the stream exists with the configured limits, and lets the other thread hand it
coroutines. The client reconnects by itself after a disconnect.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import BadRequestError

from loglens.failures import describe
from loglens.jetstream.config import NatsConfig

log = logging.getLogger("loglens.nats")

T = TypeVar("T")

#: Seconds between two attempts to connect at the start, at most.
CONNECT_BACKOFF_MAX = 2.0
#: Seconds JetStream's duplicate window keeps a batch id (JetStream's default is 2 minutes).
DUPLICATE_WINDOW = 120.0
#: err_code of "stream name already in use with a different configuration".
STREAM_NAME_IN_USE = 10058


class Link:
    """A NATS client and its JetStream context, in a thread of their own.

    Args:
        url: ``nats://HOST:PORT``.
        config: the stream to make sure of.
        role: ``publisher`` or ``consumer``, in the thread's name and the logs.
    """

    def __init__(self, url: str, config: NatsConfig, role: str) -> None:
        self.url = url
        self.config = config
        self.role = role
        self.loop = asyncio.new_event_loop()
        self.client: Client | None = None
        self.js: JetStreamContext | None = None
        self.connected = False
        self.last_error: str | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name=f"loglens-nats-{role}", daemon=True)

    def start(self) -> None:
        """Start the thread; it connects in the background."""
        self._thread.start()
        self.submit(self._connect())

    def submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``work`` in the link's loop; its future, for the calling thread."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` in the link's loop, soon (from any thread)."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(callback)

    async def ready(self) -> JetStreamContext:
        """The JetStream context, once connected and the stream made sure of."""
        await self._ready.wait()
        assert self.js is not None
        return self.js

    def close(self, timeout: float = 5.0) -> None:
        """Drain the connection and end the thread."""
        if not self._thread.is_alive():
            return
        self._closing = True
        try:
            self.submit(self._close()).result(timeout)
        except Exception as exc:  # closing is best effort: the server may be gone
            log.debug("closing the NATS connection: %s", describe(exc))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.close()

    async def _close(self) -> None:
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if self.client is not None and not self.client.is_closed:
            await self.client.close()

    async def _connect(self) -> None:
        wait = 0.1
        while not self._closing:
            try:
                client = await nats.connect(
                    servers=[self.url],
                    name=f"loglens-{self.role}",
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                )
                self.client = client
                self.js = client.jetstream(timeout=5)
                await self._ensure_stream(self.js)
            except Exception as exc:
                await self._failed(f"connecting to {self.url}: {describe(exc)}")
                await asyncio.sleep(wait)
                wait = min(CONNECT_BACKOFF_MAX, wait * 2)
                continue
            self.connected, self.last_error = True, None
            log.info("%s connected to %s", self.role, self.url)
            self._ready.set()
            return

    async def _failed(self, problem: str) -> None:
        if self.last_error is None:
            log.warning("%s: %s (retrying)", self.role, problem)
        self.last_error = problem
        if self.client is not None and not self.client.is_closed:
            await self.client.close()
        self.client = None

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create the stream, or bring an existing one's limits to the configured ones."""
        stream = self.config.stream
        config = js_api.StreamConfig(
            name=stream.name,
            subjects=list(stream.subjects),
            retention=js_api.RetentionPolicy.WORK_QUEUE,
            discard=js_api.DiscardPolicy.NEW,
            storage=js_api.StorageType.FILE,
            max_age=stream.max_age,
            max_bytes=stream.max_bytes,
            duplicate_window=DUPLICATE_WINDOW,
        )
        try:
            await js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != STREAM_NAME_IN_USE:
                raise
            await js.update_stream(config)

    async def _disconnected(self) -> None:
        if not self._closing:
            self.connected = False
            self.last_error = f"disconnected from {self.url}"
            log.warning("%s: disconnected from %s; reconnecting", self.role, self.url)

    async def _reconnected(self) -> None:
        self.connected, self.last_error = True, None
        log.info("%s: reconnected to %s", self.role, self.url)

    async def _error(self, exc: Exception) -> None:
        if not self.connected:
            self.last_error = f"connecting to {self.url}: {describe(exc)}"
        log.debug("%s: %s", self.role, describe(exc))

    @property
    def problem(self) -> str | None:
        """Why the link is not connected now (None while it is)."""
        if self.connected:
            return None
        return self.last_error or f"not connected to {self.url} yet"


async def forever(step: Callable[[], Awaitable[bool]], on_error: Callable[[Exception], float]) -> None:
    """Run ``step`` until it returns False; after a failure wait what ``on_error`` answers, and go on."""
    while True:
        try:
            if not await step():
                return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await asyncio.sleep(on_error(exc))
