"""The webhook notifiers against a real local receiver: the generic JSON and Slack's ``{"text": ...}``;
a receiver that is down, then back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from alerts.notify_helpers import Receiver, event, events, rule
from loglens.alerts.engine import AlertEvent
from loglens.alerts.webhook import SlackNotifier, WebhookNotifier
from server.agent_helpers import wait_for
from support import free_port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(free_port()).start()
    yield running
    running.stop()


def test_the_generic_webhook_gets_each_event_as_its_json(receiver: Receiver) -> None:
    fire, recover = events(rule(severity="page"), source="web")
    notifier = WebhookNotifier(f"{receiver.url}/hook")
    notifier.send(fire)
    notifier.send(recover)
    bodies = wait_for(lambda: len(receiver.bodies("/hook")) == 2 and receiver.bodies("/hook"))
    notifier.close()
    assert bodies == [fire.to_dict(), recover.to_dict()]
    assert bodies[0]["event"] == "fire"
    assert bodies[0]["labels"] == {"alertname": "high_traffic", "severity": "page", "source": "web"}
    assert bodies[0]["annotations"] == {"summary": "traffic on web"}
    assert bodies[1]["event"] == "recover"
    assert bodies[1]["incident"]["end"] == "2023-11-14T22:13:50Z"
    assert notifier.counts == {"sent": 2, "failed": 0, "rejected": 0, "dropped": 0}


def test_the_slack_webhook_gets_readable_text(receiver: Receiver) -> None:
    fire, recover = events(rule(severity="page"), source="web")
    notifier = SlackNotifier(f"{receiver.url}/slack")
    notifier.send(fire)
    notifier.send(recover)
    bodies = wait_for(lambda: len(receiver.bodies("/slack")) == 2 and receiver.bodies("/slack"))
    notifier.close()
    assert bodies == [
        {
            "text": "[FIRING] high_traffic severity=page source=web\n"
            "High traffic generated an alert - hits = 2.5, triggered at 2023-11-14T22:13:20Z\n"
            "summary: traffic on web"
        },
        {
            "text": "[RESOLVED] high_traffic severity=page source=web\n"
            "High traffic alert recovered at 2023-11-14T22:13:50Z - hits = 0.5\n"
            "summary: traffic on web"
        },
    ]


def test_a_refused_event_is_counted_and_not_retried(receiver: Receiver) -> None:
    receiver.status = 400
    notifier = WebhookNotifier(receiver.url, first_backoff=0.01)
    notifier.send(event("fire", 1))
    wait_for(lambda: notifier.counts["rejected"] == 1)
    receiver.status = 200
    notifier.send(event("fire", 2))
    bodies = wait_for(lambda: receiver.bodies())
    notifier.close()
    assert [body["labels"]["n"] for body in bodies] == ["2"]
    assert notifier.counts == {"sent": 1, "failed": 0, "rejected": 1, "dropped": 0}


def test_a_server_error_is_retried_until_it_passes(receiver: Receiver) -> None:
    receiver.status = 503
    notifier = WebhookNotifier(receiver.url, first_backoff=0.01, max_backoff=0.05)
    notifier.send(event("fire", 1))
    wait_for(lambda: notifier.counts["failed"] >= 3)
    receiver.status = 200
    wait_for(lambda: notifier.counts["sent"] == 1)
    notifier.close()
    assert [body["labels"]["n"] for body in receiver.bodies()] == ["1"]


class CountingWebhook(WebhookNotifier):
    """Counts its delivery attempts."""

    attempts = 0

    def deliver(self, event: AlertEvent) -> None:
        self.attempts += 1
        super().deliver(event)


@pytest.mark.integration
def test_notifications_wait_out_a_receiver_down_for_30_s(receiver: Receiver) -> None:
    """Down for 30 s while alerts fire: sending never waits, and all arrive in order once it is back."""
    notifier = CountingWebhook(receiver.url, first_backoff=0.2, max_backoff=2)
    notifier.send(event("fire", 0))
    wait_for(lambda: len(receiver.bodies()) == 1)
    receiver.stop()
    sent, slowest = 1, 0.0
    down_until = time.monotonic() + 30
    while time.monotonic() < down_until:
        for kind in ("fire", "recover"):
            started = time.monotonic()
            notifier.send(event(kind, sent))
            slowest = max(slowest, time.monotonic() - started)
            sent += 1
        time.sleep(0.5)  # alerts firing at a steady pace, not waiting for work
    assert notifier.counts["sent"] == 1
    assert notifier.counts["failed"] >= 5
    receiver.start()
    wait_for(lambda: len(receiver.bodies()) == sent, timeout=30, what="every notification")
    notifier.close()
    bodies = receiver.bodies()
    assert [body["labels"]["n"] for body in bodies] == [str(n) for n in range(sent)]
    assert [body["event"] for body in bodies[1:]] == ["fire", "recover"] * ((sent - 1) // 2)
    assert notifier.counts["sent"] == sent
    assert notifier.counts["failed"] == notifier.attempts - sent
    assert notifier.counts["dropped"] == notifier.counts["rejected"] == 0
    assert slowest < 0.05, f"send() took {slowest:.3f} s"
