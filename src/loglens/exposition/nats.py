"""The NATS publisher's and consumer's figures, read at scrape time.

Publisher (an agent): batches, lines and bytes acknowledged by JetStream, duplicates JetStream dropped,
failed publishes by reason, the outbox waiting, whether reading is paused, whether connected.
Consumer (a processor): batches applied, recognised as applied before, malformed and acknowledged, and
the consumer's lag as JetStream reports it (pending, ack pending, redelivered).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.sinks.nats_publisher import NatsPublisher
from loglens.sources.nats_consumer import NatsConsumer


class PublisherCollector(Collector):
    """Exposes one :class:`NatsPublisher`."""

    def __init__(self, publisher: NatsPublisher) -> None:
        self.publisher = publisher

    def collect(self) -> Iterator[Metric]:
        """Yield one family per figure."""
        p = self.publisher
        yield CounterMetricFamily(
            "loglens_nats_published_batches", "Messages of lines JetStream acknowledged.", value=p.published
        )
        yield CounterMetricFamily(
            "loglens_nats_published_lines",
            "Lines in messages JetStream acknowledged.",
            value=p.published_lines,
        )
        yield CounterMetricFamily(
            "loglens_nats_published_bytes",
            "Bytes of messages JetStream acknowledged.",
            value=p.published_bytes,
        )
        yield CounterMetricFamily(
            "loglens_nats_duplicate_batches",
            "Messages JetStream acknowledged as already in the stream (same Nats-Msg-Id).",
            value=p.duplicates,
        )
        failures = CounterMetricFamily(
            "loglens_nats_publish_failures", "Failed publishes (each retried), by reason.", labels=["reason"]
        )
        for reason, count in sorted(p.failures.items()):
            failures.add_metric([reason], count)
        yield failures
        yield GaugeMetricFamily(
            "loglens_nats_outbox_messages", "Messages waiting for JetStream's acknowledgement.",
            value=p.outbox_messages,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_nats_paused", "1 while reading is paused until JetStream takes the outbox.",
            value=0 if p.accepting() else 1,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_nats_connected", "1 while connected to NATS.", value=int(p.link.connected)
        )


class ConsumerCollector(Collector):
    """Exposes one :class:`NatsConsumer`."""

    def __init__(self, consumer: NatsConsumer) -> None:
        self.consumer = consumer

    def collect(self) -> Iterator[Metric]:
        """Yield one family per figure."""
        c = self.consumer
        yield CounterMetricFamily(
            "loglens_nats_consumed_batches", "Messages of lines applied to this processor's state.",
            value=c.consumed,
        )  # fmt: skip
        yield CounterMetricFamily(
            "loglens_nats_redelivered_batches",
            "Messages delivered again and recognised by their id as applied before (not counted again).",
            value=c.duplicates,
        )
        yield CounterMetricFamily(
            "loglens_nats_malformed_messages", "Messages that were not batches of lines (terminated).",
            value=c.malformed,
        )  # fmt: skip
        yield CounterMetricFamily(
            "loglens_nats_acked_batches", "Messages acknowledged after a checkpoint held their effects.",
            value=c.acked,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_nats_consumer_pending", "Messages in the stream not yet delivered to the consumer.",
            value=c.lag.pending,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_nats_consumer_ack_pending", "Messages delivered and not yet acknowledged.",
            value=c.lag.ack_pending,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_nats_consumer_redelivered", "Messages delivered more than once, not yet acknowledged.",
            value=c.lag.redelivered,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_nats_connected", "1 while connected to NATS.", value=int(c.link.connected)
        )
