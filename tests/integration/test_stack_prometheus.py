"""The shipped stack, proven on the real servers: Prometheus runs with deploy/prometheus.yml (addresses,
paths and intervals substituted, as ``loglens stack up`` does) and its rules, scraping a ``loglens run``
with deploy/loglens.yaml that follows logs ``loglens generate`` writes live, with a spike, an error burst
and slow requests, plus pushed metrics, lines over HTTP and unparsable lines, into an archive in a local
folder, its alert events posted to a webhook. Its rate detectors warm up in a minute
(``anomaly.warmup_minutes: 1``); then a second generator raises the traffic tenfold and a line of a new
kind is sent. Then:

- every alerting rule fires in Prometheus, and its alerts reach the real Alertmanager (shipped
  alertmanager.yml), which posts them to its webhook;
- every recording rule has a value;
- the rate detectors found the surge, the pattern detector the new line, HTTP ingest took lines, the
  archive stored segments and the webhook notifier sent events (each counted above 0 in Prometheus);
- every PromQL expression of every dashboard panel, its template variables filled in from the
  variables' own queries (each repeated panel once per value), returns data;
- every ``loglens_*`` metric the dashboards and rules name is one that loglens exports.

Grafana itself is not installable here: the dashboards are evaluated through Prometheus's HTTP API, as
Grafana would query it.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from loglens.stack.configs import Addresses, alertmanager_config, prometheus_config
from server.agent_helpers import LOGLENS, AgentProcess, wait_for
from support import free_port, require_tool, serving

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).parents[2] / "deploy"
ALERTS = ("high_traffic", "error_burst", "server_errors", "slow_requests")
RATE_INTERVAL, RANGE = "30s", "5m"
#: What the test makes happen, each counted above 0 by Prometheus at the end.
COUNTED = (
    'loglens_anomalies_total{detector="zscore"}',
    'loglens_anomalies_total{detector="new_pattern"}',
    'loglens_ingest_lines_total{source="shipper"}',
    'loglens_ingest_requests_total{endpoint="logs", code="200"}',
    "loglens_archive_segments_uploaded_total",
    'loglens_notifications_total{notifier="webhook", outcome="sent"}',
)
#: A message no generator writes: a template never seen before.
NEW_KIND = "Controller firmware reports uncorrectable media failure on drive sdb during scrub"
#: The (path, body) of each post the webhook receiver took.
Received = list[tuple[str, dict[str, Any]]]
#: Characters Grafana escapes in a multi-value variable for a Prometheus regex matcher.
_REGEX_SPECIAL = re.compile(r"[$^*{}\[\]'+?.()|]")


class _Webhook(BaseHTTPRequestHandler):
    received: Received

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def webhook() -> Iterator[tuple[str, Received]]:
    """A real HTTP receiver of webhooks: its base URL and the (path, body) of each post."""
    received: Received = []
    handler = type("Handler", (_Webhook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Stack:
    prometheus: str
    alertmanager: str
    loglens: AgentProcess
    logs: Path
    received: Received


def _loglens_settings(tmp_path: Path, logs: Path, webhook: str) -> Path:
    """deploy/loglens.yaml with this test's logs, state folder and archive, polling fast; the rate
    detectors warm up in a minute, the pattern detector after 200 messages, archive segments close
    after 2 s; alert events go to ``webhook``."""
    settings = yaml.safe_load((DEPLOY / "loglens.yaml").read_text(encoding="utf-8"))
    settings["sources"] = [{"path": str(logs / "*.log")}]
    settings["state"] = {"dir": str(tmp_path / "state"), "checkpoint_interval_seconds": 0.2}
    settings["tail"] = {"poll_interval_seconds": 0.05, "from_start": True}
    settings["anomaly"] = {"warmup_minutes": 1, "baseline_minutes": 5, "pattern_warmup": 200}
    settings["archive"] = {"dir": str(tmp_path / "archive"), "segment_max_seconds": 2}
    settings["notify"] = [{"webhook": webhook}]
    path = tmp_path / "loglens.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture
def stack(tmp_path: Path, webhook: tuple[str, Received]) -> Iterator[Stack]:
    prometheus_binary = require_tool("prometheus", "prometheus")
    alertmanager_binary = require_tool("prometheus-alertmanager", "prometheus-alertmanager")
    logs = tmp_path / "logs"
    logs.mkdir()
    settings = _loglens_settings(tmp_path, logs, f"{webhook[0]}/loglens")
    agent = AgentProcess(["--config", str(settings)], tmp_path / "loglens.out")
    addresses = Addresses(
        loglens=agent.url.removeprefix("http://"),
        prometheus=f"127.0.0.1:{free_port()}",
        alertmanager=f"127.0.0.1:{free_port()}",
    )
    alertmanager_yml = tmp_path / "alertmanager.yml"
    hook = f"{webhook[0]}/alerts"
    shipped = alertmanager_config(DEPLOY, webhook=hook, group_wait="1s", group_interval="1s")
    alertmanager_yml.write_text(shipped, encoding="utf-8")
    prometheus_yml = tmp_path / "prometheus.yml"
    prometheus_yml.write_text(prometheus_config(DEPLOY, addresses, "1s", "1s"), encoding="utf-8")
    alertmanager_args = [alertmanager_binary, f"--config.file={alertmanager_yml}",
                         f"--storage.path={tmp_path / 'am'}",
                         f"--web.listen-address={addresses.alertmanager}",
                         "--cluster.listen-address="]  # fmt: skip
    prometheus_args = [prometheus_binary, f"--config.file={prometheus_yml}",
                       f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                       f"--web.listen-address={addresses.prometheus}"]  # fmt: skip
    am_url, prom_url = f"http://{addresses.alertmanager}", f"http://{addresses.prometheus}"
    with (
        serving(alertmanager_args, tmp_path / "alertmanager.out", f"{am_url}/-/ready", "Alertmanager"),
        serving(prometheus_args, tmp_path / "prometheus.out", f"{prom_url}/-/ready", "Prometheus"),
    ):
        yield Stack(prom_url, am_url, agent, logs, webhook[1])


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert body["status"] == "success", (promql, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def has_data(prometheus: str, promql: str, instant: bool) -> bool:
    """Whether ``promql`` returns a number that is not NaN: now (instant), or in the last minute."""
    if instant:
        values = [item["value"] for item in query(prometheus, promql)]
    else:
        end = time.time()
        params = {"query": promql, "start": end - 60, "end": end, "step": 2}
        body = httpx.get(f"{prometheus}/api/v1/query_range", params=params, timeout=10).json()
        assert body["status"] == "success", (promql, body)
        values = [value for item in body["data"]["result"] for value in item["values"]]
    return any(not math.isnan(float(value[1])) for value in values)


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with Grafana's ``$name`` and ``${name}`` replaced; an unknown variable fails."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(2)
        assert name in values, f"unknown variable ${name} in {text}"
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, text)


def multi_value(options: list[str]) -> str:
    """Several values of a variable, as Grafana writes them into a regex matcher."""
    escaped = [_REGEX_SPECIAL.sub(lambda found: "\\\\" + found.group(0), option) for option in options]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def variable_options(prometheus: str, variable: dict[str, Any], values: dict[str, str]) -> list[str]:
    """The options of a ``label_values(SELECTOR, LABEL)`` variable, through Prometheus's series API."""
    found = re.fullmatch(r"label_values\((.+), *(\w+)\)", variable["query"]["query"])
    assert found, variable["query"]
    selector, label = fill(found.group(1), values), found.group(2)
    end = time.time()
    params = {"match[]": selector, "start": end - 300, "end": end}
    body = httpx.get(f"{prometheus}/api/v1/series", params=params, timeout=10).json()
    assert body["status"] == "success", (selector, body)
    options = {series[label] for series in body["data"] if series.get(label)}
    pattern = variable.get("regex") or ""
    if pattern:
        compiled = re.compile(pattern.strip("/"))
        options = {m.group(1) for m in map(compiled.fullmatch, options) if m}
    return sorted(options)


def _push(agent: AgentProcess, tick: int) -> None:
    kinds = {"jobs_done": ("counter", 3), "queue_depth": ("gauge", tick % 7),
             "job_seconds": ("histogram", 0.1 * tick), "payload_bytes": ("summary", 100 + tick)}  # fmt: skip
    metrics = [{"name": name, "metric_type": kind, "help": f"pushed {kind}", "value": {"value": value}}
               for name, (kind, value) in kinds.items()]  # fmt: skip
    answer = httpx.post(f"{agent.url}/api/metrics", json={"source": "batch", "metrics": metrics}, timeout=5)
    assert answer.status_code == 200, answer.text
    line = f"INFO {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} shipped batch {tick}\n"
    params = {"source": "shipper", "format": "level"}
    shipped = httpx.post(f"{agent.url}/api/logs", params=params, content=line, timeout=5)
    assert shipped.status_code == 200 and shipped.json()["accepted"] == 1, shipped.text


def _firing(prometheus: str) -> set[str]:
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return {alert["labels"]["alertname"] for alert in alerts if alert["state"] == "firing"}


def _at_alertmanager(alertmanager: str) -> set[str]:
    alerts = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    return {alert["labels"]["alertname"] for alert in alerts if alert["status"]["state"] == "active"}


def _generators(logs: Path) -> list[subprocess.Popen[bytes]]:
    access = [LOGLENS, "generate", "--rate", "20", "--durations", "--seed", "1", "--duration", "300",
              "--scenario", "spike@3+30:factor=5", "--scenario", "error-burst@5+10:count=400",
              "--scenario", "slow@3+60:factor=50", "-o", str(logs / "access.log")]  # fmt: skip
    app = [LOGLENS, "generate", "--format", "level", "--rate", "10", "--seed", "2", "--duration", "300",
           "--scenario", "error-burst@5+10:count=150", "-o", str(logs / "app.log")]  # fmt: skip
    quiet = subprocess.DEVNULL
    return [subprocess.Popen(args, stdout=quiet, stderr=quiet) for args in (access, app)]


def _surge(logs: Path) -> subprocess.Popen[bytes]:
    """Requests at ten times the traffic's rate, in a file of their own, for 20 s."""
    args = [LOGLENS, "generate", "--rate", "200", "--seed", "3", "--duration", "20",
            "-o", str(logs / "surge.log")]  # fmt: skip
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _positive(prometheus: str, promql: str) -> bool:
    return any(float(item["value"][1]) > 0 for item in query(prometheus, promql))


def _feed_until(stack: Stack, done: Any, timeout: float, what: str) -> None:
    """Push metrics, send lines over HTTP and write unparsable lines, once a second, until ``done()``."""
    tick = 0
    deadline = time.monotonic() + timeout
    next_feed = 0.0
    while not done():
        now = time.monotonic()
        assert now < deadline, f"timed out after {timeout} s waiting for {what}"
        if now >= next_feed:
            _push(stack.loglens, tick)
            with open(stack.logs / "bad.log", "a", encoding="utf-8") as bad:
                bad.write(f"### not a log line {tick}\n")
            tick += 1
            next_feed = now + 1
        time.sleep(0.1)


def test_every_panel_and_rule_returns_data_and_the_alerts_reach_alertmanager(stack: Stack) -> None:
    generators = _generators(stack.logs)
    try:
        seen: set[str] = set()

        def all_fired() -> bool:
            seen.update(_firing(stack.prometheus))
            return set(ALERTS) <= seen

        _feed_until(stack, all_fired, 150, f"Prometheus to fire {ALERTS} (fired: {seen})")
        scored = 'loglens_anomaly_score{detector="zscore", series="hits"} > -Inf'
        _feed_until(stack, lambda: query(stack.prometheus, scored), 150, "the zscore baseline to warm up")
        generators.append(_surge(stack.logs))
        line = f"ERROR {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {NEW_KIND}\n"
        sent = httpx.post(f"{stack.loglens.url}/api/logs", params={"source": "shipper", "format": "level"},
                          content=line, timeout=5)  # fmt: skip
        assert sent.status_code == 200, sent.text
        _feed_until(stack, lambda: all(_positive(stack.prometheus, counted) for counted in COUNTED), 60,
                    f"Prometheus to count each of {COUNTED} above 0")  # fmt: skip
        wait_for(lambda: set(ALERTS) <= _at_alertmanager(stack.alertmanager), timeout=30,
                 what="the alerts at Alertmanager")  # fmt: skip
        wait_for(lambda: any(alert["labels"]["alertname"] == "error_burst"
                             for path, body in stack.received if path == "/alerts"
                             for alert in body["alerts"]),
                 timeout=30, what="Alertmanager's webhook post of error_burst")  # fmt: skip

        for record in _recording_rules():
            assert query(stack.prometheus, record), f"recording rule {record} has no value"

        empty = [f"{title}: {expr}" for title, expr, instant in _panel_queries(stack.prometheus)
                 if not has_data(stack.prometheus, expr, instant)]  # fmt: skip
        assert not empty, "panels without data:\n" + "\n".join(empty)

        exported = _exported_names(stack.loglens)
        named = _named_metrics()
        assert named and named <= exported, f"named but not exported: {sorted(named - exported)}"
    finally:
        for generator in generators:
            generator.kill()
            generator.wait()


def _recording_rules() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "rules" / "loglens-recording.yml").read_text(encoding="utf-8"))
    groups = rules["groups"]
    return [rule["record"] for group in groups for rule in group["rules"]]


def _panel_queries(prometheus: str) -> Iterator[tuple[str, str, bool]]:
    """(dashboard and panel title, PromQL with every variable filled in, instant) of every panel target;
    a repeated panel once per value of its variable."""
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        values = {"__rate_interval": RATE_INTERVAL, "__range": RANGE}
        options: dict[str, list[str]] = {}
        for variable in dashboard["templating"]["list"]:
            found = variable_options(prometheus, variable, values)
            assert found, f"{dashboard['title']}: variable {variable['name']} has no option"
            options[variable["name"]] = found
            values[variable["name"]] = multi_value(found)
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            repeat = panel.get("repeat")
            for value in options[repeat] if repeat else [None]:
                filled = values if value is None else {**values, repeat: value}
                title = f"{dashboard['title']} / {fill(panel['title'], filled)}"
                for target in panel["targets"]:
                    instant = target.get("instant", False)
                    yield f"{title} [{target['refId']}]", fill(target["expr"], filled), instant


def _exported_names(agent: AgentProcess) -> set[str]:
    text = httpx.get(f"{agent.url}/metrics", timeout=5).text
    return {line.split("{")[0].split()[0] for line in text.splitlines() if line and not line.startswith("#")}


def _named_metrics() -> set[str]:
    named: set[str] = set()
    for path in [*DEPLOY.rglob("*.json"), *DEPLOY.rglob("*.yml")]:
        named |= set(re.findall(r"\bloglens_[a-zA-Z0-9_]+", path.read_text(encoding="utf-8")))
    return named
