"""``loglens run`` with rules and notifiers, end to end: lines appended to a followed file fire an alert
that reaches a webhook, a Slack-compatible receiver and the real Alertmanager, and recovers there; a
webhook receiver down for 30 s holds up neither ingestion nor the notifications after it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from alerts.notify_helpers import Receiver
from server.agent_helpers import AgentProcess, lines_total, wait_for
from support import free_port

pytestmark = pytest.mark.integration

CONFIG = """
alerts:
  - name: error_burst
    count: {{level: ERROR}}
    window: 5s
    threshold: 3
    labels: {{severity: page}}
    annotations: {{summary: "{{{{ value }}}} errors"}}
notify:
{notify}
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(free_port()).start()
    yield running
    running.stop()


def errors(log: Path, count: int) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with log.open("a", encoding="utf-8") as out:
        out.write("".join(f"ERROR {now} Out of memory in worker {n}\n" for n in range(count)))


def run(tmp_path: Path, notify: str) -> tuple[AgentProcess, Path]:
    log, config = tmp_path / "app.log", tmp_path / "loglens.yaml"
    log.touch()
    config.write_text(CONFIG.format(notify=notify), encoding="utf-8")
    agent = AgentProcess([str(log), "--config", str(config), "--state-dir", str(tmp_path / "state")],
                         tmp_path / "run.out")  # fmt: skip
    return agent, log


def active(alertmanager: str) -> list[dict[str, object]]:
    alerts = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    return [
        a for a in alerts if a["labels"]["alertname"] == "error_burst" and a["status"]["state"] == "active"
    ]


def test_an_alert_reaches_every_notifier_and_recovers_there(
    tmp_path: Path, receiver: Receiver, alertmanager: str
) -> None:
    notify = (f"  - webhook: {receiver.url}/hook\n  - slack: {receiver.url}/slack\n"
              f"  - alertmanager: {alertmanager}\n")  # fmt: skip
    agent, log = run(tmp_path, notify)
    errors(log, 3)
    [fired] = wait_for(lambda: receiver.bodies("/hook"), what="the fire event at the webhook")
    assert (fired["event"], fired["value"], fired["annotations"]) == ("fire", 3, {"summary": "3 errors"})
    assert fired["labels"] == {"alertname": "error_burst", "severity": "page"}
    [held] = wait_for(lambda: active(alertmanager), what="the alert in Alertmanager")
    assert held["labels"] == {"alertname": "error_burst", "severity": "page"}
    assert held["generatorURL"] == f"{agent.url}/api/alerts"
    # the errors leave the 5 s window: it recovers everywhere
    hooks = wait_for(lambda: len(receiver.bodies("/hook")) == 2 and receiver.bodies("/hook"), what="recover")
    assert [body["event"] for body in hooks] == ["fire", "recover"]
    slack = wait_for(lambda: len(receiver.bodies("/slack")) == 2 and receiver.bodies("/slack"), what="slack")
    assert slack[0]["text"].startswith("[FIRING] error_burst severity=page")
    assert slack[1]["text"].startswith("[RESOLVED] error_burst severity=page")
    wait_for(lambda: not active(alertmanager), what="Alertmanager to resolve the alert")
    metrics = httpx.get(f"{agent.url}/metrics", timeout=5).text
    for kind in ("webhook", "slack", "alertmanager"):
        assert f'loglens_notifications_total{{notifier="{kind}",outcome="sent"}}' in metrics
    assert agent.stop() == 0


def test_a_webhook_down_for_30_s_holds_up_nothing_and_gets_every_event_after(tmp_path: Path) -> None:
    receiver = Receiver(free_port())  # not started: nothing listens on its port yet
    agent, log = run(tmp_path, f"  - webhook: {receiver.url}/hook\n")
    errors(log, 3)
    wait_for(
        lambda: httpx.get(f"{agent.url}/api/alerts", timeout=5).json()["rules"][1]["fired_total"] >= 1,
        what="error_burst to fire",
    )
    down_until, counted = time.monotonic() + 30, 3
    while time.monotonic() < down_until:  # the outage: ingestion and rules go on meanwhile
        errors(log, 3)
        counted += 3
        wait_for(lambda n=counted: sum(lines_total(agent.url).values()) == n, what=f"{counted} lines counted")
    fired = httpx.get(f"{agent.url}/api/alerts", timeout=5).json()["rules"][1]["fired_total"]
    receiver.start()
    try:
        wait_for(
            lambda: len(receiver.bodies("/hook")) >= 1, timeout=90, what="the first event after the outage"
        )
        metrics = httpx.get(f"{agent.url}/metrics", timeout=5).text
        assert 'loglens_notifications_total{notifier="webhook",outcome="failed"}' in metrics
        assert 'loglens_notifications_total{notifier="webhook",outcome="failed"} 0.0' not in metrics
        assert agent.stop() == 0  # delivers what still waits
        events = [body["event"] for body in receiver.bodies("/hook")]
        assert events[0] == "fire" and events.count("fire") == fired
        assert all(a != b for a, b in pairwise(events))  # fire, recover, fire...
    finally:
        receiver.stop()
