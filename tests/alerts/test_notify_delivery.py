"""Delivery shared by the notifiers: the bounded queue, order, retries, counts, shutdown, the metric."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from alerts.notify_helpers import event
from loglens.alerts.delivery import Notifier, backoff
from loglens.alerts.engine import AlertEvent
from loglens.exposition.notify import NotificationsCollector
from server.agent_helpers import wait_for


class Gated(Notifier):
    """Delivers into :attr:`delivered` once :attr:`gate` is open; fails while :attr:`failing`."""

    kind = "test"

    def __init__(self, **delivery: float) -> None:
        super().__init__(**delivery)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.failing = False
        self.attempts = 0
        self.delivered: list[str] = []

    def describe(self) -> str:
        return "test notifier"

    def deliver(self, event: AlertEvent) -> None:
        self.attempts += 1
        self.gate.wait()
        if self.failing:
            raise ConnectionError("receiver down")
        self.delivered.append(event.labels["n"])


def test_a_full_queue_drops_the_oldest_waiting_and_counts_it() -> None:
    notifier = Gated(capacity=5)
    notifier.send(event("fire", 0))
    wait_for(lambda: notifier.attempts == 1)  # 0 is being delivered, the rest wait
    started = time.monotonic()
    for n in range(1, 9):
        notifier.send(event("fire", n))
    assert time.monotonic() - started < 0.05
    assert notifier.queued == 5
    assert notifier.counts["dropped"] == 3
    notifier.gate.set()
    wait_for(lambda: len(notifier.delivered) == 6)
    notifier.close()
    assert notifier.delivered == ["0", "4", "5", "6", "7", "8"]
    assert notifier.counts == {"sent": 6, "failed": 0, "rejected": 0, "dropped": 3}


def test_a_failing_delivery_is_retried_in_order_and_logged_twice(caplog: pytest.LogCaptureFixture) -> None:
    notifier = Gated(first_backoff=0.01, max_backoff=0.02)
    notifier.failing = True
    notifier.gate.set()
    with caplog.at_level(logging.WARNING, "loglens.alerts.notify"):
        for n in range(3):
            notifier.send(event("fire", n))
        wait_for(lambda: notifier.attempts >= 10)
        notifier.failing = False
        wait_for(lambda: len(notifier.delivered) == 3)
        notifier.close()
    assert notifier.delivered == ["0", "1", "2"]
    assert notifier.counts["sent"] == 3
    assert notifier.counts["failed"] == notifier.attempts - 3
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "test notifier failed: ConnectionError: receiver down; retrying with backoff",
        f"test notifier recovered after {notifier.counts['failed']} failed attempt(s)",
    ]


def test_the_wait_doubles_from_one_second_to_a_minute_with_jitter() -> None:
    for failures, full in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (30, 60.0)]:
        waits = [backoff(failures, 1.0, 60.0) for _ in range(200)]
        assert all(0.8 * full <= wait <= full for wait in waits)
        assert len(set(waits)) > 1


def test_close_delivers_what_waits() -> None:
    notifier = Gated()
    notifier.gate.set()
    for n in range(20):
        notifier.send(event("fire", n))
    notifier.close(timeout=10)
    assert notifier.delivered == [str(n) for n in range(20)]
    assert notifier.counts["dropped"] == 0


def test_close_gives_up_at_its_timeout_and_counts_what_is_left() -> None:
    notifier = Gated(first_backoff=0.01, max_backoff=0.01)
    notifier.failing = True
    notifier.gate.set()
    for n in range(4):
        notifier.send(event("fire", n))
    wait_for(lambda: notifier.counts["failed"] >= 1)
    started = time.monotonic()
    notifier.close(timeout=0.3)
    assert 0.25 < time.monotonic() - started < 2
    assert notifier.counts["dropped"] == 4
    notifier.send(event("fire", 5))  # after close: dropped at once
    assert notifier.counts["dropped"] == 5
    assert notifier.delivered == []


def test_the_metric_counts_outcomes_by_kind() -> None:
    first, second = Gated(capacity=1), Gated()
    first.gate.set()
    first.failing = True
    first.send(event("fire", 0))
    wait_for(lambda: first.counts["failed"] == 1)
    second.gate.set()
    second.send(event("fire", 1))
    wait_for(lambda: second.counts["sent"] == 1)
    first.send(event("fire", 2))
    first.send(event("fire", 3))  # pushes 2 out
    registry = CollectorRegistry()
    registry.register(NotificationsCollector([first, second]))
    text = generate_latest(registry).decode()
    first.close(timeout=0)
    second.close()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    tested = {key: value for key, value in samples.items()
              if key[0] == "loglens_notifications_total" and ("notifier", "test") in key[1]}  # fmt: skip
    assert tested == {
        ("loglens_notifications_total", (("notifier", "test"), ("outcome", outcome))): value
        for outcome, value in {"sent": 1, "failed": 1, "rejected": 0, "dropped": 1}.items()
    }
    assert samples[("loglens_notifications_queued", (("notifier", "test"),))] == 1


def test_with_no_notifier_every_kind_is_exposed_at_0() -> None:
    registry = CollectorRegistry()
    registry.register(NotificationsCollector([]))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }
    kinds = ("file", "webhook", "slack", "email", "alertmanager")
    outcomes = ("sent", "failed", "rejected", "dropped")
    expected = {
        ("loglens_notifications_total", (("notifier", k), ("outcome", o))) for k in kinds for o in outcomes
    }
    expected |= {("loglens_notifications_queued", (("notifier", kind),)) for kind in kinds}
    assert set(samples) == expected and not any(samples.values())
