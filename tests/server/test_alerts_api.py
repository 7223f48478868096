"""``GET /api/alerts`` and the alert log of a running agent: every alert time is RFC 3339 UTC."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from loglens.agent import Agent
from loglens.alerts.notify import JsonLinesSink
from server.agent_helpers import agent_settings, wait_for

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _access_lines(second: int, count: int) -> str:
    stamp = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'10.0.0.1 - - [{stamp}] "GET /a HTTP/1.1" 200 5\n' * count


def test_alert_times_are_rfc3339_utc_in_the_api_and_the_alert_log(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(_access_lines(int(time.time()), 200), encoding="utf-8")
    settings = agent_settings(logs, tmp_path / "state", alert={"threshold": 1.0, "window_seconds": 60})
    sink = JsonLinesSink(tmp_path / "alerts.jsonl")
    with Agent(settings, alert_sinks=[sink]) as agent:

        def fired() -> dict[str, Any] | None:
            alerts = httpx.get(f"{agent.url}/api/alerts").json()
            return alerts if alerts["incidents"] else None

        alerts = wait_for(fired, what="the high-traffic alert to fire")
    sink.close()
    (incident,) = alerts["incidents"]
    assert RFC3339_UTC.fullmatch(incident["start"])
    assert datetime.fromisoformat(incident["start"]).timestamp() == incident["start_epoch"]
    assert f"triggered at {incident['start']}" in alerts["last_message"]
    (event, *_) = (orjson.loads(line) for line in (tmp_path / "alerts.jsonl").read_bytes().splitlines())
    assert event["event"] == "fire"
    assert event["at"] == event["incident"]["start"] == incident["start"]
    assert event["message"].endswith(f"triggered at {incident['start']}")
