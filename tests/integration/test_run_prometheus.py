"""The real Prometheus scrapes a running agent every second; PromQL returns the counts written.

Also: the exposition passes ``promtool check metrics``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from loglens.agent import Agent
from server.agent_helpers import agent_settings, lines_total, wait_for
from support import REAL, free_port, require_tool, serving

pytestmark = pytest.mark.integration

SAMPLE = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    logs = tmp_path / "logs"
    logs.mkdir()
    with Agent(agent_settings(logs, tmp_path / "state")) as running:
        yield running


@pytest.fixture
def prometheus(agent: Agent, tmp_path: Path) -> Iterator[str]:
    binary = require_tool("prometheus", "prometheus")
    host, port = agent.address
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: loglens\n    static_configs:\n      - targets: ['{host}:{port}']\n",
        encoding="utf-8",
    )
    listen = f"127.0.0.1:{free_port()}"
    args = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={listen}"]  # fmt: skip
    with serving(args, tmp_path / "prometheus.out", f"http://{listen}/-/ready", "Prometheus"):
        yield f"http://{listen}"


def _query(prometheus: str, promql: str) -> dict[str, float]:
    """Instant query; ``{source: value}`` (or ``{"": value}`` for an unlabelled result)."""
    body = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert body["status"] == "success", body
    return {item["metric"].get("source", ""): float(item["value"][1]) for item in body["data"]["result"]}


def test_promql_returns_the_counts_written(agent: Agent, prometheus: str, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    web, app = logs / "web.log", logs / "app.log"
    web.write_text("".join(SAMPLE[:3000]), encoding="utf-8")
    app.write_text(
        "".join(f"2024-05-01T12:00:{n:02d}Z ERROR failure {n}\n" for n in range(40)), encoding="utf-8"
    )
    expected = {str(web): 3000.0, str(app): 40.0}
    wait_for(lambda: _query(prometheus, "loglens_lines_total") == expected, timeout=60,
             what="Prometheus to see the lines")  # fmt: skip

    ok = sum(1 for line in SAMPLE[:3000] if '" 200 ' in line)
    assert _query(prometheus, 'sum(loglens_http_requests_total{status="200"})') == {"": float(ok)}
    assert _query(prometheus, 'loglens_log_messages_total{level="ERROR"}') == {str(app): 40.0}
    assert _query(prometheus, 'up{job="loglens"}') == {"": 1.0}

    with open(web, "a", encoding="utf-8") as handle:
        handle.writelines(SAMPLE[3000:3500])
    wait_for(lambda: _query(prometheus, "loglens_lines_total").get(str(web)) == 3500.0, timeout=60,
             what="Prometheus to see the appended lines")  # fmt: skip
    increase = _query(prometheus, f'max_over_time(loglens_lines_total{{source="{web}"}}[1m])')
    assert increase == {str(web): 3500.0}


def test_exposition_passes_promtool_check_metrics(agent: Agent, tmp_path: Path) -> None:
    promtool = require_tool("promtool", "prometheus")
    logs = tmp_path / "logs"
    (logs / "web.log").write_text("".join(SAMPLE[:500]), encoding="utf-8")
    (logs / "bad.log").write_text("not a log line\n" * 3, encoding="utf-8")
    wait_for(lambda: sum(lines_total(agent.url).values()) == 503, what="503 lines")
    text = httpx.get(f"{agent.url}/metrics").text
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    openmetrics = httpx.get(f"{agent.url}/metrics", headers={"Accept": "application/openmetrics-text"}).text
    families = {family.name for family in openmetrics_families(openmetrics)}
    assert {"loglens_lines", "loglens_source_rotations"} <= families
    assert not any(name.endswith("_per_second") for name in families)  # rate() computes rates


def test_deploy_scrape_config_is_valid() -> None:
    promtool = require_tool("promtool", "prometheus")
    config = Path(__file__).parents[2] / "deploy" / "prometheus.yml"
    checked = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "127.0.0.1:9911" in config.read_text(encoding="utf-8")
