"""The Alertmanager notifier against the real Alertmanager (Debian's ``prometheus-alertmanager``)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from alerts.notify_helpers import events, rule
from loglens.alerts.alertmanager import AlertmanagerNotifier
from server.agent_helpers import wait_for

pytestmark = pytest.mark.integration

GENERATOR = "http://127.0.0.1:8080/api/alerts"


def _active(url: str) -> dict[str, dict[str, Any]]:
    """Alertmanager's unresolved alerts, by their ``source`` label."""
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
    now = time.time()
    return {alert["labels"]["source"]: alert for alert in alerts if _epoch(alert["endsAt"]) > now}


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_fired_alert_appears_is_resent_and_resolves_on_recovery(alertmanager: str) -> None:
    now = int(time.time())
    made = rule(severity="page")
    web_fire, web_recover = events(made, start=now - 10, end=now, source="web")
    api_fire, _ = events(made, start=now - 5, source="api")
    notifier = AlertmanagerNotifier(alertmanager, GENERATOR, resend_interval=0.5)
    notifier.send(web_fire)
    notifier.send(api_fire)
    active = wait_for(lambda: len(_active(alertmanager)) == 2 and _active(alertmanager), what="two alerts")
    web = active["web"]
    assert web["labels"] == {"alertname": "high_traffic", "severity": "page", "source": "web"}
    assert web["annotations"] == {
        "description": web_fire.message,
        "summary": "traffic on web",
    }
    assert _epoch(web["startsAt"]) == now - 10
    assert now < _epoch(web["endsAt"]) <= time.time() + 4 * 0.5 + 1
    assert web["generatorURL"] == GENERATOR
    assert web["status"]["state"] == "active"
    assert _epoch(active["api"]["startsAt"]) == now - 5

    first_end = _epoch(web["endsAt"])
    wait_for(lambda: _epoch(_active(alertmanager)["web"]["endsAt"]) > first_end, what="a resend")

    notifier.send(web_recover)
    wait_for(lambda: list(_active(alertmanager)) == ["api"], what="web resolved")
    assert _epoch(_active(alertmanager)["api"]["endsAt"]) > time.time()
    notifier.close()
    assert notifier.counts["failed"] == notifier.counts["rejected"] == 0
    assert notifier.counts["sent"] >= 4  # two fires, at least one resend, the recovery


def test_alerts_resolve_by_themselves_when_loglens_stops_sending(alertmanager: str) -> None:
    now = int(time.time())
    fire, _ = events(rule(), start=now, source="web")
    notifier = AlertmanagerNotifier(alertmanager, GENERATOR, resend_interval=0.5)
    notifier.send(fire)
    wait_for(lambda: "web" in _active(alertmanager), what="the alert")
    notifier.close()
    stopped = time.time()
    wait_for(lambda: not _active(alertmanager), timeout=10, what="the alert to expire")
    assert time.time() - stopped < 4 * 0.5 + 3  # endsAt is rounded up to the second


def test_an_alert_alertmanager_refuses_is_counted_and_not_resent(alertmanager: str) -> None:
    now = int(time.time())
    bad, _ = events(rule(**{"not-a-label": "x"}), start=now, source="bad")
    good, _ = events(rule(), start=now, source="good")
    notifier = AlertmanagerNotifier(alertmanager, GENERATOR, resend_interval=0.5)
    notifier.send(bad)
    notifier.send(good)
    wait_for(lambda: notifier.counts["sent"] >= 4, what="resends")  # the good fire, then resends
    notifier.close()
    assert list(_active(alertmanager)) == ["good"]
    assert notifier.counts["rejected"] == 1
    assert notifier.counts["failed"] == 0
