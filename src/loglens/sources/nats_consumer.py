"""The NATS consumer (``loglens run --consume``): batches of lines from a JetStream durable pull consumer.

Every processor binds the same durable consumer, so JetStream spreads the batches over them. The link's
thread fetches messages into a bounded inbox; :meth:`NatsConsumer.poll` decodes and parses them in the
runtime's loop. A message is acknowledged only after a checkpoint holds its effects
(:meth:`NatsConsumer.committed`), and held messages are marked in progress so JetStream does not give
them to another processor meanwhile. The ids of applied batches are kept (bounded) in the checkpoint:
a batch delivered again (its acknowledgement lost in a crash) is acknowledged and not counted twice.
The checkpoint also keeps where to acknowledge the messages it holds: a processor killed after saving it
and before its acknowledgements left is acknowledged for, when started again on its state folder, before
JetStream gives them to another processor (within the ack wait).
A message that is not a batch is counted (reason ``malformed``) and terminated: never delivered again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js import api as js_api

from loglens.contracts import SourceStatus
from loglens.failures import describe
from loglens.jetstream.config import NatsConfig
from loglens.jetstream.link import Link
from loglens.jetstream.messages import MalformedMessage, decode
from loglens.parsing import build_parser
from loglens.pipeline import LinePipeline
from loglens.records import Batch

log = logging.getLogger("loglens.nats")

#: The checkpoint key of the consumer's state.
SOURCE_ID = "nats"
#: Seconds one fetch waits for messages.
FETCH_TIMEOUT = 1.0
#: Seconds between two reads of the consumer's lag.
INFO_INTERVAL = 2.0
#: Seconds a stop waits for the acknowledgements under way.
CLOSE_WAIT = 5.0
#: The label past the cap of distinct source labels.
OTHER = "__other__"


@dataclass(frozen=True)
class ParseSettings:
    """How a processor parses the lines it consumes."""

    format: str = "auto"
    pattern: str | None = None
    timezone: str = "UTC"
    max_line_bytes: int = 64 * 1024
    max_sources: int = 1000


@dataclass
class Lag:
    """The consumer's lag as JetStream last reported it."""

    pending: int = 0  # messages in the stream not yet delivered to the consumer
    ack_pending: int = 0  # delivered, not yet acknowledged
    redelivered: int = 0  # delivered more than once, not yet acknowledged


class NatsConsumer:
    """The batches of the durable consumer ``config.consumer.durable``; see the module's text."""

    def __init__(self, config: NatsConfig, parse: ParseSettings) -> None:
        assert config.consume is not None
        self.id = SOURCE_ID
        self.config = config
        self.parse = parse
        self.link = Link(config.consume, config, "consumer")
        self.exhausted = False
        self.lag = Lag()
        self.consumed = 0  # messages applied
        self.duplicates = 0  # messages recognised by their id as applied before
        self.malformed = 0
        self.acked = 0
        self.last_error: str | None = None
        self._inbox: deque[Msg] = deque()
        self._room = asyncio.Event()
        self._held: dict[int, Msg] = {}  # fetched, not acknowledged yet (Msg is not hashable)
        self._subscription: Any = None
        self._sending: set[asyncio.Task[None]] = set()  # acknowledgements under way
        self._lock = threading.Lock()
        self._pending: list[Msg] = []  # applied since the last state()
        self._staged: list[Msg] = []  # applied before a state() the checkpoint may hold
        self._applied: OrderedDict[str, None] = OrderedDict()
        self._reack: list[str] = []  # acknowledgement subjects of a checkpoint's unacknowledged messages
        self._pipelines: dict[str, LinePipeline] = {}
        self._lines: Counter[str] = Counter()
        self._labels: dict[str, dict[str, str]] = {}
        self.link.start()
        self._tasks = [self.link.submit(self._fetch_all()), self.link.submit(self._keep_alive())]

    # -- the runtime's side ------------------------------------------------------------------------

    @property
    def backlog(self) -> bool:
        """True while fetched messages wait."""
        return bool(self._inbox)

    def poll(self, now: float) -> Generator[Batch, None, None]:
        """The fetched messages' batches, in order of delivery."""
        if self._reack:
            replies, self._reack = self._reack, []
            self.link.submit(self._acknowledge(replies))
        while True:
            with self._lock:
                if not self._inbox:
                    break
                message = self._inbox.popleft()
            self.link.call_soon(self._room.set)
            batch = self._apply(message)
            if batch is not None:
                yield batch

    def _apply(self, message: Msg) -> Batch | None:
        try:
            lines = decode(message.data)
        except MalformedMessage as exc:
            self.malformed += 1
            log.warning("a message on %s is not a batch of lines (%s): terminated", message.subject, exc)
            self._settle(message, "term")
            return None
        self._pending.append(message)
        if lines.id in self._applied:
            self.duplicates += 1
            return None
        self._applied[lines.id] = None
        while len(self._applied) > self.config.applied_ids:
            self._applied.popitem(last=False)
        self.consumed += 1
        label = self._label(f"{lines.host}:{lines.source}", lines.host)
        batch = self._pipeline(label).parse_lines(lines.lines)
        self._lines[label] += batch.lines
        return batch

    def _label(self, name: str, host: str) -> str:
        if name in self._labels:
            return name
        if len(self._labels) >= self.parse.max_sources:
            self._labels.setdefault(OTHER, {})
            return OTHER
        self._labels[name] = {"host": host}
        return name

    def _pipeline(self, label: str) -> LinePipeline:
        pipeline = self._pipelines.get(label)
        if pipeline is None:
            parser = build_parser(self.parse.format, self.parse.pattern, self.parse.timezone)
            pipeline = self._pipelines[label] = LinePipeline(label, parser, self.parse.max_line_bytes)
        return pipeline

    def state(self) -> dict[str, Any]:
        """The ids of the batches applied (the newest ``nats.applied_ids``), and the acknowledgement
        subjects of the messages this checkpoint holds that are not acknowledged yet."""
        self._staged += self._pending
        self._pending = []
        return {"applied": list(self._applied), "unacked": [m.reply for m in self._staged if m.reply]}

    def restore(self, state: dict[str, Any]) -> None:
        """Take up the ids of the batches a checkpoint holds, and acknowledge (at the first poll) the
        messages it holds that its run did not."""
        ids = [str(value) for value in state.get("applied", [])][-self.config.applied_ids :]
        self._applied = OrderedDict.fromkeys(ids)
        self._reack = [str(reply) for reply in state.get("unacked", [])][-self.config.applied_ids :]

    def committed(self, state: dict[str, Any]) -> None:
        """The checkpoint holds the staged messages' effects: acknowledge them."""
        staged, self._staged = self._staged, []
        for message in staged:
            self._settle(message, "ack")

    def status(self) -> list[SourceStatus]:
        """One entry per host and source consumed, and one for the consumer (its malformed messages)."""
        own = SourceStatus(
            name=self.id,
            errors={"malformed": self.malformed} if self.malformed else {},
            healthy=self.link.connected and self.last_error is None,
            last_error=self.last_error or self.link.problem,
        )
        return [own, *(SourceStatus(name=name, lines=lines, labels=self._labels.get(name, {}))
                       for name, lines in sorted(self._lines.items()))]  # fmt: skip

    def labels_of(self, name: str) -> dict[str, str]:
        """The ``host`` of a consumed source label."""
        return dict(self._labels.get(name, {}))

    def feeds(self, name: str) -> bool:
        """Whether source label ``name`` came over NATS (the archive keeps those lines)."""
        return name in self._labels

    def close(self) -> None:
        """Stop fetching, send the acknowledgements given, and disconnect; unacknowledged messages go
        to another processor after the ack wait."""
        for task in self._tasks:
            self.link.call_soon(task.cancel)
        try:
            self.link.submit(self._sent()).result(CLOSE_WAIT)
        except Exception as exc:  # the server is gone: they are delivered again, and known by their id
            log.warning("acknowledgements not sent at the stop: %s", describe(exc))
        self.link.close()

    async def _sent(self) -> None:
        """Wait for the acknowledgements under way, then for the server to have them."""
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self.link.client is not None and self.link.connected:
            await self.link.client.flush(timeout=int(CLOSE_WAIT))

    # -- the link's side ---------------------------------------------------------------------------

    def _settle(self, message: Msg, how: str) -> None:
        with self._lock:
            self._held.pop(id(message), None)
        self.acked += how == "ack"
        self.link.submit(self._send(message, how))

    async def _acknowledge(self, replies: list[str]) -> None:
        """Acknowledge messages by their subjects (what ``Msg.ack`` publishes). One that JetStream gave
        to another processor meanwhile (past the ack wait) is counted there too: docs/scale.md."""
        task = asyncio.current_task()
        assert task is not None
        self._sending.add(task)
        try:
            await self.link.ready()
            client = self.link.client
            assert client is not None
            for reply in replies:
                await client.publish(reply, b"+ACK")
            await client.flush(timeout=int(CLOSE_WAIT))
            self.acked += len(replies)
            log.info("acknowledged %d batches the last run's checkpoint held", len(replies))
        except Exception as exc:  # they are delivered again, and recognised by their ids
            log.warning("acknowledging the last run's batches failed: %s", describe(exc))
        finally:
            self._sending.discard(task)

    async def _send(self, message: Msg, how: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sending.add(task)
        try:
            await (message.ack() if how == "ack" else message.term())
        except Exception as exc:  # it is delivered again, and recognised by its id
            log.debug("%s of a message failed: %s", how, describe(exc))
        finally:
            self._sending.discard(task)

    async def _fetch_all(self) -> None:
        js = await self.link.ready()
        consumer = self.config.consumer
        config = js_api.ConsumerConfig(
            durable_name=consumer.durable,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            ack_wait=consumer.ack_wait_seconds,
            max_ack_pending=consumer.max_ack_pending,
        )
        subscription = None
        wait = 0.1
        while True:
            try:
                if subscription is None:
                    subscription = await js.pull_subscribe(
                        f"{self.config.subject}.>", durable=consumer.durable, stream=self.config.stream.name,
                        config=config,
                    )  # fmt: skip
                    self._subscription = subscription
                if len(self._inbox) >= 2 * consumer.batch_size:
                    self._room.clear()
                    await self._room.wait()
                    continue
                messages = await subscription.fetch(consumer.batch_size, timeout=FETCH_TIMEOUT)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.last_error is None:
                    log.warning("fetching from %s fails (%s); retrying", consumer.durable, describe(exc))
                self.last_error = describe(exc)
                await asyncio.sleep(wait)
                wait = min(2.0, wait * 2)
                continue
            wait, self.last_error = 0.1, None
            with self._lock:
                self._inbox.extend(messages)
                self._held.update((id(message), message) for message in messages)

    async def _keep_alive(self) -> None:
        """Mark held messages in progress every third of the ack wait; read the lag."""
        every = min(INFO_INTERVAL, self.config.consumer.ack_wait_seconds / 3)
        marked = 0.0
        while True:
            await asyncio.sleep(every)
            now = asyncio.get_running_loop().time()
            if now - marked >= self.config.consumer.ack_wait_seconds / 3:
                marked = now
                with self._lock:
                    held = list(self._held.values())
                for message in held:
                    try:
                        await message.in_progress()
                    except Exception as exc:
                        log.debug("marking a message in progress failed: %s", describe(exc))
            if self._subscription is None:
                continue
            try:
                info = await self._subscription.consumer_info()
            except Exception as exc:
                log.debug("reading the consumer's lag failed: %s", describe(exc))
                continue
            self.lag = Lag(info.num_pending or 0, info.num_ack_pending or 0, info.num_redelivered or 0)
