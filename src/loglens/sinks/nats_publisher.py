"""The NATS publisher (``loglens run --publish``): every folded batch's raw lines, to a JetStream stream.

The runtime hands each batch to :meth:`NatsPublisher.write`, which encodes it into messages
(:mod:`loglens.jetstream.messages`) and queues them in an outbox; the link's thread publishes the
outbox in order, each message with its batch id as ``Nats-Msg-Id``, and drops a message only once
JetStream acknowledged it. :meth:`NatsPublisher.state`, called inside the checkpoint's transaction,
waits for the outbox to be acknowledged and raises :class:`~loglens.contracts.CheckpointHeld` while it is
not: the checkpoint (and so every file offset) never moves past what JetStream holds, and the agent
stays live (``/api/health``) while not ready (``/api/ready`` names the sink). When JetStream refuses
(the stream is full, or the server is gone) the message is retried with backoff, and
:meth:`accepting` is False once the outbox holds ``nats.max_outbox_bytes``: the runtime stops reading
its sources until it drains.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from loglens.contracts import CheckpointHeld, SinkHealth
from loglens.failures import describe
from loglens.jetstream.config import NatsConfig
from loglens.jetstream.link import Link
from loglens.jetstream.messages import encode
from loglens.records import Batch, Span

log = logging.getLogger("loglens.nats")

#: Seconds one publish waits for JetStream's acknowledgement.
PUBLISH_TIMEOUT = 5.0
#: Seconds the checkpoint waits for the outbox to be acknowledged before it gives up (and is retried).
ACK_WAIT = 2.0
#: Backoff between two attempts at one message: from this, doubling, to BACKOFF_MAX.
BACKOFF_MIN, BACKOFF_MAX = 0.05, 2.0


class Unacknowledged(CheckpointHeld):
    """Batches are not yet acknowledged by JetStream: the checkpoint must wait."""


@dataclass
class _Message:
    id: str
    payload: bytes
    lines: int


class NatsPublisher:
    """Publishes batches to ``config.publish_subject``; see the module's text.

    Args:
        config: the ``nats:`` settings (``publish`` is the server's URL).
    """

    name = "nats"

    def __init__(self, config: NatsConfig) -> None:
        assert config.publish is not None
        self.config = config
        self.subject = config.publish_subject
        self.link = Link(config.publish, config, "publisher")
        self.published = 0  # messages acknowledged
        self.published_lines = 0
        self.published_bytes = 0
        self.duplicates = 0  # acknowledged as already in the stream (Nats-Msg-Id)
        self.failures: Counter[str] = Counter()
        self.last_error: str | None = None
        self._outbox: deque[_Message] = deque()
        self._outbox_bytes = 0
        self._changed = threading.Condition()
        self._wake: asyncio.Event | None = None
        # Batches that say nowhere where they were read (stdin) get ids unique to this process.
        self._boot = os.urandom(6).hex()
        self._unplaced = itertools.count()
        self._closed = False
        self.link.start()
        self._task = self.link.submit(self._publish_all())

    # -- the runtime's side ------------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """Queue the batch's lines for publishing (never waits for NATS).

        Raises:
            RuntimeError: the publisher is closed.
        """
        if self._closed:
            raise RuntimeError("the NATS publisher is closed")
        if batch.raw.len() == 0:
            return
        span = batch.span or Span(f"process:{self._boot}", next(self._unplaced), 0)
        messages = encode(self.config.host, batch.source, span, batch.raw, self.config.max_message_bytes)
        with self._changed:
            for message_id, payload, lines in messages:
                self._outbox.append(_Message(message_id, payload, lines))
                self._outbox_bytes += len(payload)
        self.link.call_soon(self._poke)

    def accepting(self) -> bool:
        """False while the outbox holds ``nats.max_outbox_bytes``: the runtime reads no more until then."""
        return self._outbox_bytes < self.config.max_outbox_bytes

    def state(self) -> dict[str, Any]:
        """Wait for the outbox to be acknowledged; raise :class:`Unacknowledged` if it is not soon.

        Raises:
            Unacknowledged: messages wait for JetStream (full, or unreachable): the checkpoint waits.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: not self._outbox, ACK_WAIT):
                why = f" ({self.last_error})" if self.last_error else ""
                waiting = len(self._outbox)
                raise Unacknowledged(f"{waiting} message(s) wait for JetStream's acknowledgement{why}")
        return {"published": self.published}

    def restore(self, state: dict[str, Any]) -> None:
        """Nothing to cut back: lines past the checkpoint are read and published again under their ids."""
        self.published = int(state.get("published", 0))

    def flush(self) -> None:
        """Wait (a little) for the outbox to be acknowledged."""
        with self._changed:
            self._changed.wait_for(lambda: not self._outbox, ACK_WAIT)

    def close(self) -> None:
        """Stop publishing; what is not acknowledged is published again after the next start."""
        self._closed = True
        self.flush()
        self.link.call_soon(self._task.cancel)
        self.link.close()

    def health(self) -> SinkHealth:
        """Unhealthy while publishing fails (the stream is full, the server unreachable)."""
        detail = {
            "subject": self.subject, "connected": self.link.connected, "outbox_messages": len(self._outbox),
            "outbox_bytes": self._outbox_bytes, "paused": not self.accepting(), "published": self.published,
        }  # fmt: skip
        error = self.last_error or self.link.problem
        return SinkHealth(healthy=error is None, last_error=error, detail=detail)

    @property
    def outbox_messages(self) -> int:
        """Messages waiting for JetStream's acknowledgement."""
        return len(self._outbox)

    # -- the link's side ---------------------------------------------------------------------------

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _publish_all(self) -> None:
        self._wake = asyncio.Event()
        js = await self.link.ready()
        wait = BACKOFF_MIN
        while True:
            with self._changed:
                message = self._outbox[0] if self._outbox else None
            if message is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                headers = {"Nats-Msg-Id": message.id}
                ack = await js.publish(
                    self.subject, message.payload, timeout=PUBLISH_TIMEOUT, headers=headers
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(exc)
                await asyncio.sleep(wait)
                wait = min(BACKOFF_MAX, wait * 2)
                continue
            wait = BACKOFF_MIN
            if self.last_error is not None:
                log.info("publishing to %s works again", self.subject)
                self.last_error = None
            with self._changed:
                self._outbox.popleft()
                self._outbox_bytes -= len(message.payload)
                self.published += 1
                self.published_lines += message.lines
                self.published_bytes += len(message.payload)
                self.duplicates += bool(ack.duplicate)
                self._changed.notify_all()

    def _failed(self, exc: Exception) -> None:
        text = describe(exc)
        why = "stream_full" if "maximum" in text.lower() or "exceeded" in text.lower() else _reason(exc)
        self.failures[why] += 1
        if self.last_error is None:
            log.warning("publishing to %s fails (%s): reading pauses once %d bytes wait", self.subject, text,
                        self.config.max_outbox_bytes)  # fmt: skip
        self.last_error = f"{why}: {text}"


def _reason(exc: Exception) -> str:
    """A short reason for a failed publish."""
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "timeout"
    if "noresponders" in name or "connection" in name or "reconnect" in name or "closed" in name:
        return "unreachable"
    return "refused"
