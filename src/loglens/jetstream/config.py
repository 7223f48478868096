"""The ``nats:`` section: where agents publish and processors consume, the stream and the consumer."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from loglens.alerts.config import seconds_of
from loglens.config_sections import Section

#: What a subject token may hold (NATS refuses spaces, dots and wildcards inside one).
_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


def nats_url(url: str) -> str:
    """``url`` when it is ``nats://HOST:PORT`` (or ``tls://``), else ValueError naming what is wrong."""
    wrong = f"{url!r} is not nats://HOST:PORT"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(wrong) from None
    if parts.scheme not in ("nats", "tls") or not parts.hostname or port is None or parts.path.strip("/"):
        raise ValueError(wrong)
    return url


def subject_token(text: str) -> str:
    """``text`` as one subject token (a host name in a subject)."""
    return _TOKEN.sub("_", text) or "_"


class StreamConfig(Section):
    """The JetStream stream the agents publish to (created, or updated, by whoever connects first)."""

    name: str = Field(default="LOGLENS", pattern=r"^[A-Za-z0-9_-]+$")
    subjects: list[str] = Field(default_factory=lambda: ["loglens.lines.>"], min_length=1)
    max_age: float = Field(default=7 * 86400.0, gt=0, description="seconds (or 12h, 7d) a batch is kept")
    max_bytes: int = Field(
        default=1024**3, gt=0, description="bytes the stream holds; past them agents pause"
    )

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: object) -> object:
        return seconds_of(value)


class ConsumerConfig(Section):
    """The durable pull consumer that every processor shares."""

    durable: str = Field(default="loglens", pattern=r"^[A-Za-z0-9_-]+$")
    ack_wait_seconds: float = Field(
        default=30.0, ge=1, description="a batch not acknowledged this long is delivered again"
    )
    batch_size: int = Field(default=16, ge=1, le=1024, description="messages one fetch asks for")
    max_ack_pending: int = Field(default=256, ge=1, description="messages held unacknowledged per consumer")


class NatsConfig(Section):
    """``loglens run --publish`` (an agent) and ``--consume`` (a processor) over NATS JetStream."""

    publish: str | None = Field(default=None, description="nats://HOST:PORT: publish batches of lines there")
    consume: str | None = Field(default=None, description="nats://HOST:PORT: consume batches of lines there")
    subject: str = Field(
        default="loglens.lines", description="agents publish to SUBJECT.HOST (inside stream.subjects)"
    )
    host: str = Field(default_factory=socket.gethostname, description="the agent's name in its batches")
    instance: str | None = Field(
        default=None, description="the `instance` label of a processor's /metrics; default HOST:PORT"
    )
    max_message_bytes: int = Field(
        default=768 * 1024, ge=1024, description="a batch larger than this goes in several messages"
    )
    max_outbox_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="unacknowledged bytes past which an agent stops reading",
    )
    applied_ids: int = Field(
        default=4096, ge=16, description="ids of applied batches a processor keeps to recognise redeliveries"
    )
    stream: StreamConfig = Field(default_factory=StreamConfig)
    consumer: ConsumerConfig = Field(default_factory=ConsumerConfig)

    @field_validator("publish", "consume")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        return None if url is None else nats_url(url)

    @model_validator(mode="after")
    def _one_role(self) -> NatsConfig:
        if self.publish and self.consume:
            raise ValueError("nats.publish and nats.consume: a process publishes or consumes, not both")
        return self

    @property
    def publish_subject(self) -> str:
        """The subject this agent publishes to."""
        return f"{self.subject}.{subject_token(self.host)}"
