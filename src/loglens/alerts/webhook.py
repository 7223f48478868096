"""HTTP notifiers: the generic webhook (loglens's JSON) and the Slack-compatible one (``{"text": ...}``)."""

from __future__ import annotations

from typing import Any

import httpx

from loglens.alerts.delivery import Notifier, Rejected
from loglens.alerts.engine import AlertEvent
from loglens.alerts.text import headline

#: Seconds one HTTP request may take, connecting included.
HTTP_TIMEOUT_SECONDS = 10.0
#: 4xx answers that mean "try later", not "never".
_RETRYABLE = frozenset({408, 425, 429})


class HttpNotifier(Notifier):
    """A notifier that POSTs JSON to ``url``: a 2xx is delivered, a 4xx rejected, anything else retried."""

    def __init__(self, url: str, **delivery: Any) -> None:
        super().__init__(**delivery)
        self.url = url
        self.client = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)

    def describe(self) -> str:
        """``webhook http://...``."""
        return f"{self.kind} {self.url}"

    def post(self, body: Any) -> None:
        """POST ``body`` as JSON to :attr:`url`."""
        response = self.client.post(self.url, json=body)
        status = response.status_code
        if 400 <= status < 500 and status not in _RETRYABLE:
            raise Rejected(f"HTTP {status}: {response.text[:200]}")
        response.raise_for_status()

    def release(self) -> None:
        """Close the connections."""
        self.client.close()


class WebhookNotifier(HttpNotifier):
    """POSTs :meth:`AlertEvent.to_dict` (the line of the alert file) for each event."""

    kind = "webhook"

    def deliver(self, event: AlertEvent) -> None:
        """POST the event's JSON."""
        self.post(event.to_dict())


def slack_text(event: AlertEvent) -> str:
    """The headline, the message, then one ``name: value`` line per annotation."""
    annotations = (f"{name}: {value}" for name, value in sorted(event.incident.annotations.items()))
    return "\n".join([headline(event), event.message, *annotations])


class SlackNotifier(HttpNotifier):
    """POSTs ``{"text": ...}`` (Slack's incoming webhooks, Mattermost, Rocket.Chat, Discord's /slack)."""

    kind = "slack"

    def deliver(self, event: AlertEvent) -> None:
        """POST the event as text."""
        self.post({"text": slack_text(event)})
