"""``loglens check`` refuses every configuration ``loglens run`` refuses, and both say why in one line
with exit status 2 (the real command, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LOGLENS = str(Path(sys.executable).with_name("loglens"))
LINE = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 5\n'

#: name -> (YAML after the sources, the source's own extra YAML, environment, what the error says)
BAD: dict[str, tuple[str, str, dict[str, str], str]] = {
    "push prefix": ("push:\n  prefix: loglens\n", "", {}, "would put pushed metrics under loglens_*"),
    "push prefix python": ("push:\n  prefix: python\n", "", {}, "under python_*"),
    "label name": ("", "    labels: {bad-label: x}\n", {}, "'bad-label' is not a label name"),
    "built-in label": ("", "    labels: {source: x}\n", {}, "label 'source' is set by loglens itself"),
    "zone": ("parse:\n  timezone: Mars/Olympus\n", "", {}, "unknown time zone 'Mars/Olympus'"),
    "look-ahead": ("", "    pattern: '(?=x)(?P<status>\\d+)'\n", {}, "look-around"),
    "duplicate key": ("state:\n  dir: {state}\n", "", {}, "duplicate key 'state' (first on line"),
    "broken JSON": ("", "", {"LOGLENS__PUSH": "{"}, "environment variable LOGLENS__PUSH is not valid JSON"),
}


def _loglens(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("LOGLENS__")}
    # A configuration run accepts makes it serve until stopped: the timeout fails the test.
    return subprocess.run(
        [LOGLENS, *args], capture_output=True, text=True, timeout=60, env={**environment, **(env or {})}
    )


def _config(tmp_path: Path, name: str) -> tuple[Path, dict[str, str], str]:
    tail, source, env, message = BAD[name]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text(LINE, encoding="utf-8")
    state = tmp_path / "state"
    text = (
        f"sources:\n  - path: {logs}/*.log\n{source}server:\n  listen: 127.0.0.1:0\nstate:\n  dir: {state}\n"
        + tail.format(state=state)
    )
    config = tmp_path / "loglens.yaml"
    config.write_text(text, encoding="utf-8")
    return config, env, message


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_bad_configuration_is_refused_by_check_and_run_in_one_line(
    tmp_path: Path, command: str, name: str
) -> None:
    config, env, message = _config(tmp_path, name)
    result = _loglens(command, "--config", str(config), env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "state").exists()


def test_replay_refuses_an_unknown_zone_in_one_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("2025-01-01 10:00:00 INFO zone-less\n", encoding="utf-8")
    result = _loglens("replay", "--timezone", "Mars/Olympus", str(log))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "loglens: --timezone: 'parse.timezone': unknown time zone 'Mars/Olympus'; "
        "use a tz database name such as Europe/Paris"
    ]


def test_run_refuses_a_pattern_polars_cannot_run_given_as_a_flag(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(LINE, encoding="utf-8")
    result = _loglens(
        "run", str(tmp_path / "a.log"), "--pattern", r"(?P<status>\d+)\1", "--listen", "127.0.0.1:0",
        "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "backreferences are not supported" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
