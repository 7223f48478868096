"""The ``--alert-log`` sink: one JSON object per line per fire and recover, appended and flushed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest

from loglens.aggregate.windows import Windows
from loglens.alerts.engine import AlertEngine
from loglens.alerts.notify import JsonLinesSink
from loglens.alerts.rules import HitRateRule
from loglens.clock import FrozenClock
from loglens.errors import ConfigError
from loglens.records import conform

NOW = 1_700_000_000


def test_each_event_is_one_json_line_readable_at_once(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b'{"event":"older"}\n')
    windows, clock = Windows(), FrozenClock(NOW)
    sink = JsonLinesSink(path)
    engine = AlertEngine(windows, [HitRateRule(2, 5)], clock, sinks=[sink])
    ts = [datetime.fromtimestamp(NOW, UTC)] * 12
    windows.add(conform(pl.DataFrame({"ts": ts, "status": [200] * 12})), NOW)
    engine.tick()
    lines = path.read_bytes().splitlines()  # flushed without closing
    assert len(lines) == 2
    clock.advance(5)
    engine.tick()
    sink.close()
    older, fired, recovered = (orjson.loads(line) for line in path.read_bytes().splitlines())
    assert older == {"event": "older"}
    assert fired == {
        "event": "fire",
        "rule": "high_traffic",
        "at": "2023-11-14T22:13:20Z",
        "value": 2.4,
        "op": ">=",
        "threshold": 2,
        "window_seconds": 5,
        "message": "High traffic generated an alert - hits = 2.4, triggered at 2023-11-14T22:13:20Z",
        "labels": {"alertname": "high_traffic"},
        "annotations": {},
        "incident": {
            "rule": "high_traffic",
            "start": "2023-11-14T22:13:20Z",
            "end": None,
            "duration_seconds": 0,
            "max_value": 2.4,
            "labels": {},
        },
    }
    assert recovered["event"] == "recover"
    assert recovered["at"] == recovered["incident"]["end"] == "2023-11-14T22:13:25Z"
    assert recovered["message"] == "High traffic alert recovered at 2023-11-14T22:13:25Z - hits = 0.0"
    assert recovered["incident"]["duration_seconds"] == 5
    for event in (fired, recovered):  # RFC 3339 as the standard library reads it
        assert datetime.fromisoformat(event["at"]).tzinfo == UTC


def test_an_unwritable_log_is_a_start_up_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open alert log"):
        JsonLinesSink(tmp_path / "missing" / "alerts.jsonl")
