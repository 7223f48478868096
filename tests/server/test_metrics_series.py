"""What ``/metrics`` holds, over the real HTTP server: no rate gauges."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from loglens.agent import Agent
from server.agent_helpers import agent_settings, lines_total, wait_for


def _access_line(method: str, second: int, duration: float = 0.05) -> str:
    stamp = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'10.0.0.1 - - [{stamp}] "{method} /api/x HTTP/1.1" 200 512 "-" "curl/8" {duration}\n'


def test_metrics_hold_no_rate_gauge_and_status_keeps_the_rate(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    now = int(time.time())
    (logs / "access.log").write_text("".join(_access_line("GET", now) for _ in range(20)), encoding="utf-8")
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:
        source = str(logs / "access.log")
        wait_for(lambda: lines_total(agent.url).get(source) == 20, what="20 lines on /metrics")
        text = httpx.get(f"{agent.url}/metrics").text
        assert "loglens_lines_total" in text
        assert "loglens_lines_per_second" not in text
        assert "_per_second" not in text
        (status,) = httpx.get(f"{agent.url}/api/status").json()["sources"]
        assert status["lines_per_second"] > 0
