"""``loglens alerts export`` against the real Prometheus: promtool accepts the file, and Prometheus, loaded
with it and scraping a ``loglens run`` fed by ``loglens generate --scenario error-burst``, fires the alert
that loglens fires."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.rule_strategies import ISSUE_RULES, RULES
from loglens.alerts.config import RuleConfig
from loglens.alerts.export import export_rules
from server.agent_helpers import LOGLENS, AgentProcess, wait_for
from support import free_port, require_tool, serving

pytestmark = pytest.mark.integration

ERROR_BURST = """\
sources:
  - path: {log}
    format: level
state: {{dir: {state}, checkpoint_interval_seconds: 0.2}}
tail: {{poll_interval_seconds: 0.02, from_start: true}}
alerts:
  - name: error_burst
    count: {{level: ERROR}}
    window: 60s
    op: ">="
    threshold: 11
"""


def check_rules(promtool: str, text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "loglens.rules.yml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)


def test_the_issue_rules_pass_promtool_check_rules(tmp_path: Path) -> None:
    promtool = require_tool("promtool", "prometheus")
    config = tmp_path / "loglens.yaml"
    config.write_text(ISSUE_RULES, encoding="utf-8")
    text = subprocess.run(
        [LOGLENS, "alerts", "export", "--config", str(config), "--interval", "1s"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    checked = check_rules(promtool, text, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout  # the fifth, a message regex, is a comment


@settings(max_examples=40, deadline=None)
@given(st.lists(RULES, min_size=1, max_size=4))
def test_any_exported_rule_file_passes_promtool_check_rules(rules: list[RuleConfig]) -> None:
    promtool = require_tool("promtool", "prometheus")
    with tempfile.TemporaryDirectory() as folder:
        checked = check_rules(promtool, export_rules(rules, interval=1.0), Path(folder))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture
def prometheus_with_rules(tmp_path: Path) -> Iterator[tuple[str, AgentProcess, Path]]:
    """``loglens run`` following an empty app.log, and Prometheus scraping it with the exported rules."""
    binary = require_tool("prometheus", "prometheus")
    log, config = tmp_path / "app.log", tmp_path / "loglens.yaml"
    log.touch()
    config.write_text(ERROR_BURST.format(log=log, state=tmp_path / "state"), encoding="utf-8")
    rules = tmp_path / "loglens.rules.yml"
    subprocess.run([LOGLENS, "alerts", "export", "--config", str(config), "-o", str(rules)], check=True)
    agent = AgentProcess(["--config", str(config)], tmp_path / "loglens.out")
    target = agent.url.removeprefix("http://")
    prometheus_config = tmp_path / "prometheus.yml"
    prometheus_config.write_text(
        f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['{rules}']\n"
        f"scrape_configs:\n  - job_name: loglens\n    static_configs:\n      - targets: ['{target}']\n",
        encoding="utf-8",
    )
    listen = f"127.0.0.1:{free_port()}"
    args = [binary, f"--config.file={prometheus_config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={listen}"]  # fmt: skip
    url = f"http://{listen}"
    with serving(args, tmp_path / "prometheus.out", f"{url}/-/ready", "Prometheus"):
        wait_for(lambda: _target_up(url), timeout=60, what="Prometheus to scrape loglens")
        yield url, agent, log


def _target_up(prometheus: str) -> bool:
    body = httpx.get(f"{prometheus}/api/v1/query", params={"query": 'up{job="loglens"}'}, timeout=5).json()
    return [item["value"][1] for item in body["data"]["result"]] == ["1"]


def _prometheus_alert(prometheus: str, name: str) -> dict[str, Any] | None:
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    firing = [
        alert for alert in alerts if alert["labels"]["alertname"] == name and alert["state"] == "firing"
    ]
    return firing[0] if firing else None


def _loglens_firing(agent: AgentProcess, name: str, seen: list[Any]) -> bool:
    rules = httpx.get(f"{agent.url}/api/alerts", timeout=5).json()["rules"]
    seen[:] = rules
    return any(rule["name"] == name and rule["firing"] for rule in rules)


def test_prometheus_fires_the_exported_error_burst_rule_as_loglens_does(
    prometheus_with_rules: tuple[str, AgentProcess, Path], tmp_path: Path
) -> None:
    prometheus, agent, log = prometheus_with_rules
    timeline = tmp_path / "timeline.json"
    # Half a line a second has ERROR lines far below 11 a minute; the burst adds 100 in 3 s.
    generator = subprocess.Popen(
        [LOGLENS, "generate", "--format", "level", "--rate", "0.5", "--seed", "1", "--duration", "120",
         "--scenario", "error-burst@6+3", "--timeline", str(timeline), "-o", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: timeline.exists() and timeline.stat().st_size, what="the generator's timeline")
        burst = orjson.loads(timeline.read_bytes())["scenarios"][0]
        started = datetime.fromisoformat(burst["start"]).timestamp()

        alert = wait_for(lambda: _prometheus_alert(prometheus, "error_burst"), timeout=60,
                         what="Prometheus to fire error_burst")  # fmt: skip
        assert datetime.fromisoformat(alert["activeAt"]).timestamp() >= started - 1  # not before the burst
        assert float(alert["value"]) >= 11

        seen: list[Any] = []
        wait_for(lambda: _loglens_firing(agent, "error_burst", seen), timeout=30,
                 what="loglens to fire error_burst (GET /api/alerts rules)", last=seen)  # fmt: skip
    finally:
        generator.kill()
        generator.wait()
