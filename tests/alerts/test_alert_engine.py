"""The alert engine with a frozen, stepped clock: fire, recover, incidents, catch-up, sinks."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from loglens.aggregate.windows import Windows
from loglens.alerts.engine import AlertEngine, AlertEvent
from loglens.alerts.rules import HitRateRule, format_time
from loglens.clock import FrozenClock
from loglens.records import conform

NOW = 1_700_000_000


def hits(windows: Windows, second: int, count: int) -> None:
    """Add ``count`` access hits in event second ``second``."""
    ts = [datetime.fromtimestamp(second, UTC)] * count
    windows.add(conform(pl.DataFrame({"ts": ts, "status": [200] * count})), second)


def make(threshold: float = 3, window: int = 5, limit: int = 3) -> tuple[Windows, FrozenClock, AlertEngine]:
    windows = Windows(keep_seconds=600, lateness_seconds=120)
    clock = FrozenClock(NOW)
    return windows, clock, AlertEngine(windows, [HitRateRule(threshold, window)], clock, limit)


def test_acceptance_sequence_fires_at_4_2_and_recovers_at_1_8() -> None:
    windows, clock, engine = make()
    hits(windows, NOW - 8, 6)
    hits(windows, NOW - 7, 8)
    assert engine.tick() == []
    assert engine.values["high_traffic"] == 0.0
    hits(windows, NOW - 6, 8)
    hits(windows, NOW - 3, 12)
    assert engine.tick() == []
    assert engine.values["high_traffic"] == pytest.approx(2.4)
    hits(windows, NOW - 2, 9)
    [fired] = engine.tick()
    assert fired.kind == "fire"
    assert fired.message == f"High traffic generated an alert - hits = 4.2, triggered at {format_time(NOW)}"
    assert [i.start for i in engine.firing()] == [NOW]
    clock.advance(2)
    [recovered] = engine.tick()
    assert recovered.kind == "recover"
    assert recovered.at == NOW + 2
    assert f"recovered at {format_time(NOW + 2)}" in recovered.message
    assert recovered.message.endswith("hits = 1.8")
    assert engine.firing() == []
    [incident] = engine.recent()
    assert (incident.start, incident.end, incident.duration(NOW + 10)) == (NOW, NOW + 2, 2)
    assert incident.max_value == pytest.approx(4.2)


def test_message_format() -> None:
    rule = HitRateRule(10, 120)
    at = datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC).timestamp()
    fired = "High traffic generated an alert - hits = 12.3, triggered at 2024-03-05T07:08:09Z"
    assert rule.fire_message(12.345, at) == fired
    recovered = "High traffic alert recovered at 2024-03-05T07:08:09Z - hits = 10.0"
    assert rule.recover_message(9.96, at) == recovered


def test_rate_reaching_threshold_exactly_fires() -> None:
    windows, _clock, engine = make(threshold=3, window=5)
    hits(windows, NOW, 15)
    [event] = engine.tick()
    assert event.kind == "fire"
    assert event.value == 3.0


def test_evaluates_every_second_between_ticks() -> None:
    """A tick after 10 quiet seconds recovers at the second the rate fell, not at the tick."""
    windows, clock, engine = make(threshold=3, window=5)
    hits(windows, NOW, 20)
    assert [e.kind for e in engine.tick()] == ["fire"]
    clock.advance(10)
    [event] = engine.tick()
    assert (event.kind, event.at) == ("recover", NOW + 5)  # the window (s - 5, s] holds NOW until NOW + 4
    assert event.value == pytest.approx(0.0)


def test_max_rate_and_incident_limit() -> None:
    windows, clock, engine = make(threshold=3, window=5, limit=2)
    for n in range(3):
        start = NOW + n * 100
        clock.set(start)
        hits(windows, start, 20)
        engine.tick()
        clock.set(start + 1)
        hits(windows, start + 1, 30)
        engine.tick()
        clock.set(start + 50)
        engine.tick()
    recent = engine.recent()
    assert [i.start for i in recent] == [NOW + 200, NOW + 100]
    assert all(i.max_value == pytest.approx(10.0) for i in recent)
    assert all(i.duration(0) == 6 for i in recent)


def test_long_gap_is_skipped_after_the_window_drains() -> None:
    windows, _clock, engine = make(threshold=3, window=5)
    hits(windows, NOW, 20)
    engine.advance_to(NOW)
    events = engine.advance_to(NOW + 86_400)
    assert [(e.kind, e.at) for e in events] == [("recover", NOW + 5)]
    assert engine.evaluated_at == NOW + 86_400


def test_a_little_back_in_time_reevaluates_the_last_second_without_flapping() -> None:
    """Late lines make the caller ask for an older second: the state never goes back with it."""
    windows, _clock, engine = make(threshold=3, window=5)
    hits(windows, NOW, 20)
    assert [e.kind for e in engine.advance_to(NOW + 2)] == ["fire"]
    hits(windows, NOW - 3, 1)
    assert engine.advance_to(NOW - 4) == []
    assert engine.evaluated_at == NOW + 2
    assert engine.values["high_traffic"] == pytest.approx(4.0)


def test_clock_going_back_restarts_without_losing_state() -> None:
    windows, clock, engine = make()
    hits(windows, NOW, 20)
    engine.tick()
    clock.set(NOW - 3600)
    assert [e.kind for e in engine.tick()] == ["recover"]
    assert engine.evaluated_at == NOW - 3600


class Recorder:
    def __init__(self) -> None:
        self.events: list[AlertEvent] = []

    def send(self, event: AlertEvent) -> None:
        self.events.append(event)


class Broken:
    def send(self, event: AlertEvent) -> None:
        raise OSError("disk full")


def test_sinks_get_each_event_and_a_failing_sink_is_counted() -> None:
    windows = Windows()
    clock = FrozenClock(NOW)
    recorder = Recorder()
    engine = AlertEngine(windows, [HitRateRule(1, 2)], clock, sinks=[Broken(), recorder])
    hits(windows, NOW, 5)
    engine.tick()
    clock.advance(5)
    engine.tick()
    assert [e.kind for e in recorder.events] == ["fire", "recover"]
    assert engine.sink_errors == 2
