"""Rules of ``alerts:`` with a stepped clock: each kind, ``for``, ``keep_firing_for``, ``by``, restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.aggregate.windows import Windows
from loglens.alerts.config import RuleConfig
from loglens.alerts.engine import AlertEngine, AlertEvent
from loglens.alerts.rules import rule_of
from loglens.alerts.series import RELATIVE_ERROR, Series
from loglens.clock import FrozenClock
from loglens.records import conform

NOW = 1_700_000_000


def rule(**config: Any) -> Any:
    return rule_of(RuleConfig.model_validate(config))


def engine_of(*rules: Any) -> tuple[Windows, FrozenClock, AlertEngine]:
    windows, clock = Windows(keep_seconds=900, lateness_seconds=120), FrozenClock(NOW)
    return windows, clock, AlertEngine(windows, list(rules), clock)


def add(windows: Windows, second: int, source: str = "app", **columns: list[Any]) -> None:
    """Records at ``second`` with the given columns (all the same length)."""
    count = len(next(iter(columns.values())))
    frame = pl.DataFrame({"ts": [datetime.fromtimestamp(second, UTC)] * count, **columns})
    windows.add(conform(frame), second, source)


def errors(windows: Windows, second: int, count: int = 1, source: str = "app") -> None:
    add(windows, second, source, level=["ERROR"] * count, message=["Out of memory"] * count)


def kinds(events: list[AlertEvent]) -> list[tuple[str, int]]:
    return [(event.kind, event.at) for event in events]


ERROR_BURST = {
    "name": "error_burst",
    "count": {"level": "ERROR"},
    "window": "60s",
    "op": ">=",
    "threshold": 11,
}


def test_ten_errors_in_60_s_do_not_fire_the_eleventh_does_and_it_recovers_at_ten() -> None:
    windows, clock, engine = engine_of(rule(**ERROR_BURST))
    for n in range(10):
        errors(windows, NOW - 50 + n)
    add(windows, NOW - 45, level=["INFO"] * 30)  # other levels do not count
    assert engine.tick() == []
    assert engine.values["error_burst"] == 10
    clock.advance(1)
    errors(windows, NOW + 1)
    [fired] = engine.tick()
    assert (fired.kind, fired.at, fired.value) == ("fire", NOW + 1, 11)
    assert fired.message == "error_burst generated an alert - count = 11, triggered at 2023-11-14T22:13:21Z"
    clock.advance(30)
    # the first error (NOW - 50) leaves the window (s - 60, s] at s = NOW + 10: 10 left
    assert kinds(engine.tick()) == [("recover", NOW + 10)]
    assert engine.firing() == []


def test_for_delays_firing_and_a_short_breach_only_pends() -> None:
    spec = {"name": "busy", "rate": {}, "window": "10s", "threshold": 1, "for": "5s"}
    windows, clock, engine = engine_of(rule(**spec))
    add(windows, NOW, status=[200] * 20)  # 2/s over 10 s, until NOW + 10
    assert engine.tick() == []
    assert engine.active() == [("busy", "pending", {}, NOW, 2.0)]
    clock.advance(20)
    assert kinds(engine.tick()) == [("fire", NOW + 5), ("recover", NOW + 10)]
    add(windows, NOW + 30, status=[200] * 20)
    clock.advance(10)
    engine.tick()  # breached NOW + 30 .. NOW + 39
    add(windows, NOW + 100, status=[200] * 12)  # breached NOW + 100 .. NOW + 109, 10 s: fires at 105
    clock.advance(10)
    assert kinds(engine.tick()) == [("fire", NOW + 35), ("recover", NOW + 40)]


def test_keep_firing_for_holds_the_alert_after_the_condition_clears() -> None:
    spec = {"name": "busy", "rate": {}, "window": "10s", "threshold": 1, "keep_firing_for": "30s"}
    windows, clock, engine = engine_of(rule(**spec))
    add(windows, NOW, status=[200] * 20)
    assert kinds(engine.tick()) == [("fire", NOW)]
    clock.advance(60)
    # no longer breached from NOW + 10; resolves 30 s later
    [recovered] = engine.tick()
    assert (recovered.kind, recovered.at) == ("recover", NOW + 40)


def test_breaching_again_while_kept_firing_keeps_one_incident() -> None:
    spec = {"name": "busy", "rate": {}, "window": "10s", "threshold": 1, "keep_firing_for": "30s"}
    windows, clock, engine = engine_of(rule(**spec))
    add(windows, NOW, status=[200] * 20)
    engine.tick()
    clock.advance(20)
    engine.tick()
    add(windows, NOW + 20, status=[200] * 20)  # breached again before the 30 s ran out
    clock.advance(100)
    assert kinds(engine.tick()) == [("recover", NOW + 60)]
    assert len(engine.recent()) == 1


def test_by_source_makes_one_alert_per_source_with_its_labels_and_annotations() -> None:
    spec = {**ERROR_BURST, "threshold": 3, "by": ["source"], "labels": {"severity": "page"},
            "annotations": {"summary": "{{ value }} errors on {{ source }}"}}  # fmt: skip
    windows, _clock, engine = engine_of(rule(**spec))
    errors(windows, NOW, 3, source="web")
    errors(windows, NOW, 2, source="db")
    [fired] = engine.tick()
    assert fired.labels == {"alertname": "error_burst", "severity": "page", "source": "web"}
    assert fired.incident.annotations == {"summary": "3 errors on web"}
    assert fired.message.startswith("error_burst{source=web} generated an alert - count = 3")
    errors(windows, NOW, 1, source="db")
    [second] = engine.tick()
    assert second.incident.labels == {"source": "db"}
    assert sorted(i.labels["source"] for i in engine.firing()) == ["db", "web"]


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"status": "5xx"}, 3),
        ({"status": 404}, 1),
        ({"method": "POST"}, 2),
        ({"section": "/api"}, 4),
        ({"source": "app"}, 6),
        ({"source": "other"}, 0),
        ({"message": "time(out|d)"}, 3),  # log lines too
        ({}, 6),  # every request, not the log line
    ],
)
def test_each_match_field_selects_its_records(match: dict[str, Any], expected: int) -> None:
    windows, _clock, engine = engine_of(rule(name="n", count=match, threshold=1000))
    add(
        windows, NOW,
        status=[200, 404, 500, 503, 502, 200, None],
        method=["GET", "POST", "POST", "GET", "GET", "GET", None],
        section=["/api", "/api", "/api", "/api", "/", "/", None],
        message=[None, "timeout", None, "timed out", None, None, "timeout"],
    )  # fmt: skip
    windows.add(
        conform(pl.DataFrame({"ts": [datetime.fromtimestamp(NOW, UTC)], "status": [200]})), NOW, "app"
    )
    engine.tick()
    total = expected + (1 if match in ({}, {"source": "app"}) else 0)
    assert engine.values["n"] == total


def test_ratio_of_server_errors_and_no_value_without_requests() -> None:
    spec = {"name": "server_errors", "ratio": {"numerator": {"status": "5xx"}, "denominator": {}},
            "window": "300s", "op": ">", "threshold": 0.05}  # fmt: skip
    windows, clock, engine = engine_of(rule(**spec))
    assert engine.tick() == []
    assert engine.rules[0].measure(NOW) == {}
    add(windows, NOW, status=[200] * 19 + [500])
    assert engine.tick() == []
    assert engine.values["server_errors"] == pytest.approx(0.05)
    clock.advance(1)
    add(windows, NOW + 1, status=[502])
    [fired] = engine.tick()
    assert fired.value == pytest.approx(2 / 21)
    clock.advance(400)
    [recovered] = engine.tick()
    # NOW + 1's 502 alone (ratio 1) leaves the window at NOW + 301: no request, no value
    assert recovered.at == NOW + 301 and recovered.value is None
    assert recovered.message.endswith("ratio = none")


@settings(max_examples=60, deadline=None)
@given(
    durations=st.lists(st.floats(min_value=0.0005, max_value=500), min_size=1, max_size=300),
    q=st.sampled_from([0.5, 0.9, 0.99]),
)
def test_quantile_is_within_the_sketch_error_of_the_exact_one(durations: list[float], q: float) -> None:
    spec = {"name": "slow", "quantile": {"q": q, "of": "duration"}, "window": "300s", "threshold": 1}
    windows, _clock, engine = engine_of(rule(**spec))
    add(windows, NOW, status=[200] * len(durations), duration=durations)
    engine.tick()
    ordered = sorted(durations)
    exact = ordered[int(np.floor(q * (len(ordered) - 1)))]
    assert engine.values["slow"] == pytest.approx(exact, rel=RELATIVE_ERROR * 1.01)


def test_a_firing_rule_is_still_firing_after_a_restart_and_not_announced_again() -> None:
    spec = {**ERROR_BURST, "by": ["source"], "threshold": 2}
    windows, clock, engine = engine_of(rule(**spec))
    errors(windows, NOW - 5, 3, source="web")
    assert kinds(engine.tick()) == [("fire", NOW)]  # the first tick evaluates its own second
    state = engine.to_state()
    windows, clock, again = engine_of(rule(**spec))
    again.restore(state)
    assert [i.labels for i in again.firing()] == [{"source": "web"}]
    assert again.tick() == []  # still breached: the restored seconds count
    assert again.fired["error_burst"] == 1
    clock.advance(100)
    assert kinds(again.tick()) == [("recover", NOW + 55)]


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(
                st.just("add"), st.integers(-150, 150), st.sampled_from(["a", "b", "c"]), st.integers(1, 5)
            ),
            st.tuples(st.just("move"), st.integers(-200, 200)),
        ),
        max_size=60,
    ),
    window=st.integers(1, 90),
)
def test_the_running_window_always_equals_the_sum_of_its_seconds(
    steps: list[tuple[Any, ...]], window: int
) -> None:
    series = Series(1, window, keep=window + 400, max_groups=10)
    added: list[tuple[int, str, int]] = []
    now = 0
    for step in steps:
        if step[0] == "add":
            _, second, group, count = step
            series.add_rows([second], [(group,)], [[float(count)]])
            added.append((second, group, count))
        else:
            now += step[1]
            expected: dict[tuple[str], float] = {}
            for second, group, count in added:
                if now - window < second <= now:
                    expected[(group,)] = expected.get((group,), 0.0) + count
            assert {g: v[0] for g, v in series.window_at(now).items()} == expected
