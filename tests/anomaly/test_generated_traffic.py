"""``loglens generate`` traffic through the real runtime in event time, as ``loglens alerts test`` runs it:
each incident is an anomaly within 5 s of its start, through the metrics, /api/anomalies, the console
and an ``anomaly:`` rule; a day of diurnal traffic with no incident is none."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loglens.agent import alert_rules
from loglens.alerts.engine import AlertEvent
from loglens.cli import main
from loglens.config import Settings
from loglens.exposition.runtime import RuntimeCollector
from loglens.runtime import Runtime
from loglens.server.anomaly_routes import build_anomaly_router
from loglens.sources.replay_reader import ReplayReader
from loglens.ui.console import text
from loglens.ui.console.monitor import Monitor, WatchOptions

START = "2026-11-02T00:00:00Z"  # in the past: lines past the wall clock are dropped as future


def generate(path: Path, *options: str) -> list[dict[str, object]]:
    """Write the lines; return the timeline's scenarios."""
    timeline = path.with_suffix(".json")
    args = [
        "generate",
        "--start",
        START,
        "--seed",
        "7",
        "-o",
        str(path),
        "--timeline",
        str(timeline),
        *options,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return list(json.loads(timeline.read_text())["scenarios"])


def replay(path: Path, settings: Settings, events: list[AlertEvent]) -> Runtime:
    class Sink:
        def send(self, event: AlertEvent) -> None:
            events.append(event)

    reader = ReplayReader([str(path)], "auto", None, "UTC", 65536)
    runtime = Runtime(
        settings,
        [reader],
        rules=alert_rules(settings),
        alert_sinks=[Sink()],
        event_time=True,
        checkpoint=False,
    )
    runtime.drain()
    runtime.close()
    return runtime


def epoch(text: object) -> int:
    return int(datetime.fromisoformat(str(text)).timestamp())


def test_a_spike_an_error_burst_and_an_outage_are_anomalies_within_5_seconds(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    incidents = ["-s", "spike@1200+30", "-s", "error-burst@1500+10", "-s", "outage@1800+60"]
    scenarios = generate(log, "--rate", "10", "--duration", "35m", *incidents)
    rules = [
        {"name": "traffic_anomaly", "anomaly": {"detector": "zscore", "series": "hits"}, "threshold": 6},
        {"name": "errors_anomaly", "anomaly": {"detector": "zscore", "series": "5xx", "direction": "up"},
         "threshold": 6},
    ]  # fmt: skip
    events: list[AlertEvent] = []
    runtime = replay(log, Settings.model_validate({"alerts": rules}), events)
    anomalies = runtime.query.anomalies().anomalies[::-1]
    series = {"spike": "hits", "error-burst": "5xx", "outage": "5xx"}
    for scenario in scenarios:
        start = epoch(scenario["start"])
        first = next(a for a in anomalies if a.at >= start and a.series == series[str(scenario["name"])])
        assert first.at - start <= 5, (scenario["name"], first)
    assert anomalies[0].at >= epoch(scenarios[0]["start"])  # none before the first incident
    fired = [(e.rule.name, e.at - epoch(s["start"])) for e in events for s in scenarios if e.kind == "fire"]
    assert {name for name, delay in fired if 0 <= delay <= 5} == {"traffic_anomaly", "errors_anomaly"}

    families = {family.name: family for family in RuntimeCollector(runtime.query).collect()}
    totals = {
        s.labels["detector"]: s.value
        for s in families["loglens_anomalies"].samples
        if s.name.endswith("_total")
    }
    assert totals == {"zscore": len(anomalies), "seasonal": 0, "new_pattern": 0, "pattern_rate": 0}
    (last,) = families["loglens_last_anomaly_timestamp_seconds"].samples
    assert last.value == anomalies[-1].at
    scored = {(s.labels["detector"], s.labels["series"]) for s in families["loglens_anomaly_score"].samples}
    assert {("zscore", "hits"), ("zscore", "5xx"), ("zscore", "4xx")} <= scored

    app = FastAPI()
    app.include_router(build_anomaly_router(runtime.query))
    body = TestClient(app).get("/api/anomalies").json()
    assert body["threshold"] == 6 and len(body["anomalies"]) == len(anomalies)
    newest = body["anomalies"][0]
    assert newest["at_epoch"] == anomalies[-1].at and newest["example"] is None
    assert set(newest) >= {"detector", "series", "at", "score", "baseline", "observed"}

    line = text.anomaly_line(Monitor(runtime, WatchOptions()).snapshot())
    assert line.startswith(f"anomalies: {anomalies[-1].series} ") and line.count(" · ") == 2


def test_a_day_of_diurnal_traffic_raises_no_anomaly(tmp_path: Path) -> None:
    log = tmp_path / "day.log"
    generate(log, "--profile", "diurnal", "--rate", "4", "--duration", "24h")
    runtime = replay(log, Settings(), [])
    state = runtime.query.anomalies()
    assert state.anomalies == [] and ("zscore", "hits") in state.scores
