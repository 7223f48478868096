"""The notifiers' figures, read at scrape time: ``loglens_notifications_total{notifier,outcome}`` and
``loglens_notifications_queued{notifier}``. Notifiers of the same kind add up under one label."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.alerts.delivery import OUTCOMES, Notifier


class NotificationsCollector(Collector):
    """Exposes the outcome counts and queue lengths of ``notifiers``."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = notifiers  # read at each scrape: a list filled later shows then

    def collect(self) -> Iterator[Metric]:
        """Yield the two families (nothing when no notifier is configured)."""
        if not self.notifiers:
            return
        counts: dict[str, Counter[str]] = {}
        queued: Counter[str] = Counter()
        for notifier in self.notifiers:
            counts.setdefault(notifier.kind, Counter()).update(notifier.counts)
            queued[notifier.kind] += notifier.queued
        total = CounterMetricFamily(
            "loglens_notifications",
            "Alert notifications by outcome: sent; failed (an attempt, retried with backoff); rejected "
            "(refused by the destination, not retried); dropped (pushed out of a full queue, or left at "
            "shutdown).",
            labels=["notifier", "outcome"],
        )
        waiting = GaugeMetricFamily(
            "loglens_notifications_queued", "Alert notifications waiting for delivery.", labels=["notifier"]
        )
        for kind in sorted(counts):
            for outcome in OUTCOMES:
                total.add_metric([kind, outcome], counts[kind][outcome])
            waiting.add_metric([kind], queued[kind])
        yield from (total, waiting)
