"""The notifiers' figures, read at scrape time: ``loglens_notifications_total{notifier,outcome}`` and
``loglens_notifications_queued{notifier}``. Notifiers of the same kind add up under one label. Every kind
is exposed, configured or not, at 0 until it notifies (as Alertmanager does with its integrations), so
the series are there from the start."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.alerts.delivery import OUTCOMES, Notifier
from loglens.alerts.notifiers import KINDS


class NotificationsCollector(Collector):
    """Exposes the outcome counts and queue lengths of ``notifiers``, and 0 for the other ``kinds``."""

    def __init__(self, notifiers: Sequence[Notifier], kinds: Sequence[str] = KINDS) -> None:
        self.notifiers = notifiers  # read at each scrape: a list filled later shows then
        self.kinds = kinds

    def collect(self) -> Iterator[Metric]:
        """Yield the two families."""
        counts: dict[str, Counter[str]] = {kind: Counter() for kind in self.kinds}
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
