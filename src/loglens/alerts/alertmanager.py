"""The Alertmanager notifier: alerts POSTed to the v2 API, re-sent while they fire.

Each fire event is sent at once, then re-sent with every other firing alert each ``resend_interval``
seconds, always with ``endsAt`` ``4 × resend_interval`` ahead, so Alertmanager resolves the alerts by
itself when loglens stops sending them. A recover event is sent once, with ``endsAt`` the recovery time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from loglens.alerts.delivery import Rejected
from loglens.alerts.engine import AlertEvent
from loglens.alerts.rules import format_time
from loglens.alerts.webhook import HttpNotifier

#: Seconds between two sends of a firing alert (Prometheus's ``--rules.alert.resend-delay``).
RESEND_INTERVAL_SECONDS = 60.0
#: How many resend intervals ahead a firing alert's ``endsAt`` is.
ENDS_AT_INTERVALS = 4


def alert(event: AlertEvent, ends_at: float, generator_url: str) -> dict[str, Any]:
    """One element of ``POST /api/v2/alerts``; ``description`` is the message unless an annotation says."""
    return {
        "labels": event.labels,
        "annotations": {"description": event.message, **event.incident.annotations},
        "startsAt": format_time(event.incident.start),
        "endsAt": format_time(ends_at),
        **({"generatorURL": generator_url} if generator_url else {}),
    }


class AlertmanagerNotifier(HttpNotifier):
    """Keeps Alertmanager's view of loglens's alerts: sends, re-sends while firing, resolves.

    Args:
        base_url: Alertmanager's, e.g. ``http://127.0.0.1:9093``.
        generator_url: where an alert links back to (loglens's ``/api/alerts``).
        resend_interval: seconds between two sends of the firing alerts.
    """

    kind = "alertmanager"

    def __init__(
        self,
        base_url: str,
        generator_url: str,
        resend_interval: float = RESEND_INTERVAL_SECONDS,
        **delivery: Any,
    ) -> None:
        super().__init__(base_url.rstrip("/") + "/api/v2/alerts", **delivery)
        self.base_url = base_url
        self.generator_url = generator_url
        self.resend_interval = resend_interval
        self._firing: dict[frozenset[tuple[str, str]], AlertEvent] = {}  # by labels; delivery thread only
        self._sent_at = 0.0  # monotonic, of the last send of every firing alert

    def describe(self) -> str:
        """``alertmanager http://...``."""
        return f"alertmanager {self.base_url}"

    def resume(self, events: Sequence[AlertEvent]) -> None:
        """Take back the alerts still firing after a restart, so they are re-sent (to Alertmanager an
        alert it holds, not a new one: nobody is notified again)."""
        for event in events:
            self.send(event)

    def deliver(self, event: AlertEvent) -> None:
        """Send the event's alert: firing (``endsAt`` ahead) or resolved (``endsAt`` its recovery)."""
        key = frozenset(event.labels.items())
        if event.kind == "fire":
            if not self._firing:
                self._sent_at = time.monotonic()
            self._firing[key] = event
            try:
                self.post([alert(event, self._ends_at(), self.generator_url)])
            except Rejected:
                del self._firing[key]  # it would be refused at every resend
                raise
        else:
            self._firing.pop(key, None)
            self.post([alert(event, event.at, self.generator_url)])

    def refresh_in(self, now: float) -> float | None:
        """Seconds until the firing alerts are due again; None while none fires."""
        if not self._firing:
            return None
        return self._sent_at + self.resend_interval - now

    def refresh(self) -> None:
        """Re-send every firing alert with a new ``endsAt`` (a failure is retried with backoff)."""
        self._sent_at = time.monotonic()
        if self._firing:
            ends_at = self._ends_at()
            self.post([alert(event, ends_at, self.generator_url) for event in self._firing.values()])

    def _ends_at(self) -> float:
        """The whole second ``ENDS_AT_INTERVALS`` resend intervals from now, rounded up."""
        return math.ceil(time.time() + ENDS_AT_INTERVALS * self.resend_interval)
