"""``loglens alerts test``: a log replayed through the rules in its own time says when each would fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from click.testing import CliRunner

from loglens.cli import main

START = datetime(2026, 12, 1, 7, 0, 0, tzinfo=UTC)
RULES = """
alert:
  threshold: 1000
alerts:
  - name: error_burst
    count: {level: ERROR}
    window: 60s
    threshold: 11
  - name: slow_burst
    count: {level: ERROR, message: "timed? ?out"}
    window: 60s
    threshold: 3
    for: 5s
"""


def at(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_log(path: Path) -> None:
    """Errors at 0..9 s, the 11th at 30 s; timeouts at 100, 101, 102 s; errors at 189..199 s; info lines
    every second to 199 s."""
    lines = [f"INFO {at(s)} Request successful" for s in range(0, 200)]
    lines += [f"ERROR {at(s)} Out of memory in worker {s}" for s in range(10)]
    lines += [f"ERROR {at(30)} Out of memory in worker 30"]
    lines += [f"ERROR {at(s)} upstream timed out" for s in (100, 101, 102)]
    lines += [f"ERROR {at(s)} Out of memory in worker {s}" for s in range(189, 200)]
    lines.sort(key=lambda line: line.split()[1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_it_prints_when_each_rule_would_have_fired_and_recovered(tmp_path: Path) -> None:
    (tmp_path / "loglens.yaml").write_text(RULES, encoding="utf-8")
    write_log(tmp_path / "app.log")
    result = CliRunner().invoke(
        main, ["alerts", "test", "--config", str(tmp_path / "loglens.yaml"), str(tmp_path / "app.log")]
    )
    assert result.exit_code == 0, result.output
    events = [line.split()[:3] for line in result.output.splitlines() if line[:1].isdigit()]
    assert events == [
        [at(30), "fire", "error_burst"],  # the 11th error within 60 s
        [at(60), "recover", "error_burst"],  # the error at 0 s leaves the window (s - 60, s]
        [at(107), "fire", "slow_burst"],  # 3 timeouts from 102 s, then 5 s pending
        [at(160), "recover", "slow_burst"],  # the timeout at 100 s leaves the window: 2 left
        [at(199), "fire", "error_burst"],  # 11 errors in 189..199 s, and the log ends
    ]
    assert (
        "error_burst: fired 2 time(s), 30s in all (peak 11); 1 still firing at the end of the log"
        in result.output
    )
    assert (
        "slow_burst: fired 1 time(s)" in result.output
        and "1 still firing at the end of the log" in result.output
    )
    assert "high_traffic: never fired" in result.output


def test_json_output_and_one_rule(tmp_path: Path) -> None:
    (tmp_path / "loglens.yaml").write_text(RULES, encoding="utf-8")
    write_log(tmp_path / "app.log")
    args = ["alerts", "test", "--config", str(tmp_path / "loglens.yaml"), "--rule", "error_burst",
            "--output", "json", str(tmp_path / "app.log")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in result.output.splitlines()]
    assert [(e["event"], e["rule"], e["at"]) for e in events] == [
        ("fire", "error_burst", at(30)),
        ("recover", "error_burst", at(60)),
        ("fire", "error_burst", at(199)),
    ]
    assert events[0]["value"] == 11 and events[1]["value"] == 10


def test_an_unknown_rule_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "loglens.yaml").write_text(RULES, encoding="utf-8")
    write_log(tmp_path / "app.log")
    args = [
        "alerts",
        "test",
        "--config",
        str(tmp_path / "loglens.yaml"),
        "--rule",
        "nope",
        str(tmp_path / "app.log"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert (
        "--rule 'nope' is not a rule of the settings (high_traffic, error_burst, slow_burst)" in result.output
    )
