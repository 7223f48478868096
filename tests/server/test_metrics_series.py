"""What ``/metrics`` holds, over the real HTTP server: no rate gauges, HTTP series only for access logs,
and the ``method`` label limited to the standard methods (the rest as ``OTHER``)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from loglens.agent import Agent
from server.agent_helpers import agent_settings, lines_total, scrape, wait_for
from support import REAL

HTTP_FAMILIES = (
    "loglens_http_requests_total",
    "loglens_http_section_requests_total",
    "loglens_http_response_bytes_total",
    "loglens_http_request_duration_seconds",
)


def _access_line(method: str, second: int, duration: float = 0.05) -> str:
    stamp = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'10.0.0.1 - - [{stamp}] "{method} /api/x HTTP/1.1" 200 512 "-" "curl/8" {duration}\n'


def _sources(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], family: str) -> set[str]:
    return {dict(labels)["source"] for (name, labels) in samples if name.startswith(family)}


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


def test_application_logs_export_no_http_series_and_access_logs_do(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    now = int(time.time())
    app_lines = (REAL / "loghub" / "Zookeeper_2k.log").read_text(encoding="utf-8").splitlines(keepends=True)
    (logs / "zookeeper.log").write_text("".join(app_lines[:200]), encoding="utf-8")
    json_lines = [f'{{"ts": {now}, "level": "WARN", "msg": "slow query {i}"}}\n' for i in range(30)]
    (logs / "app.json").write_text("".join(json_lines), encoding="utf-8")
    (logs / "access.log").write_text("".join(_access_line("GET", now) for _ in range(10)), encoding="utf-8")
    sources = [
        {"path": str(logs / "zookeeper.log"), "format": "level"},
        {"path": str(logs / "app.json"), "format": "json"},
        {"path": str(logs / "access.log")},
    ]
    with Agent(agent_settings(logs, tmp_path / "state", sources=sources)) as agent:
        counts = {"zookeeper.log": 200, "app.json": 30, "access.log": 10}
        expected = {str(logs / name): count for name, count in counts.items()}
        wait_for(lambda: lines_total(agent.url) == expected, what="every line on /metrics")
        samples = scrape(agent.url)
        for family in HTTP_FAMILIES:
            assert _sources(samples, family) == {str(logs / "access.log")}, family
        assert _sources(samples, "loglens_log_messages_total") == {
            str(logs / "zookeeper.log"),
            str(logs / "app.json"),
        }


def test_methods_outside_the_standard_ones_are_pooled_as_other(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    now = int(time.time())
    methods = ["GET"] * 5 + ["PATCH", "OPTIONS", "PROPFIND", "get", "FOO", "Post", "MKCOL", "BREW"]
    (logs / "access.log").write_text("".join(_access_line(m, now) for m in methods), encoding="utf-8")
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:
        source = str(logs / "access.log")
        wait_for(lambda: lines_total(agent.url).get(source) == len(methods), what="every line on /metrics")
        by_method: Counter[str] = Counter()
        for (name, labels), value in scrape(agent.url).items():
            if name == "loglens_http_requests_total":
                by_method[dict(labels)["method"]] += int(value)
        assert by_method == {"GET": 5, "PATCH": 1, "OPTIONS": 1, "OTHER": 6}

        def insight_methods() -> dict[str, int] | None:
            insights = httpx.get(f"{agent.url}/api/insights", params={"window": 600, "at": "latest"}).json()
            return insights["methods"] if sum(insights["methods"].values()) == len(methods) else None

        assert wait_for(insight_methods, what="every request in the insights") == by_method
