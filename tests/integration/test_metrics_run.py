"""User metrics in a real ``loglens run``: counted once across ``kill -9``, a rotation and a restart, and
bad rules refused at start-up with one line naming the rule."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from server.agent_helpers import LOGLENS, AgentProcess, scrape, wait_for

pytestmark = pytest.mark.integration

SERVICES = ("billing", "shop", "mail")
CONFIG = """\
metrics:
  - name: payment_failures_total
    type: counter
    help: Failed payments by service
    match: 'payment failed .* service=(?P<service>\\w+)'
    labels: [service]
  - name: payment_cents_total
    type: counter
    match: 'payment failed amount=(?P<cents>\\d+)'
    value: cents
"""


class Writer(threading.Thread):
    """Appends payment lines (and others) to one log, half a line at a time at the end of each chunk."""

    def __init__(self, log: Path, chunks: int = 60) -> None:
        super().__init__(daemon=True)
        self.log, self.chunks = log, chunks
        self.failures: Counter[str] = Counter()
        self.cents = 0
        self.serial = 0

    def line(self) -> str:
        self.serial += 1
        n = self.serial
        if n % 3:
            return f"2025-03-01T00:00:00Z INFO order {n} created\n"
        service = SERVICES[n // 3 % len(SERVICES)]
        self.failures[service] += 1
        self.cents += n
        return f"2025-03-01T00:00:00Z ERROR payment failed amount={n} service={service}\n"

    def run(self) -> None:
        for _ in range(self.chunks):
            text = "".join(self.line() for _ in range(200))
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(text[: len(text) // 2 + 5])
                handle.flush()
                handle.write(text[len(text) // 2 + 5 :])
            threading.Event().wait(0.05)  # pace the stream so the kill lands mid-way


def _counted(url: str) -> tuple[dict[str, float], float]:
    samples = scrape(url)
    failures = {
        dict(labels)["service"]: value
        for (name, labels), value in samples.items()
        if name == "payment_failures_total"
    }
    return failures, samples.get(("payment_cents_total", ()), 0.0)


def _saved_failures(state: Path) -> float:
    """Failures counted in the last checkpoint (read with a separate SQLite connection)."""
    if not (state / "checkpoint.sqlite3").exists():
        return 0
    with sqlite3.connect(state / "checkpoint.sqlite3") as db:
        row = db.execute("SELECT value FROM state WHERE key = 'metrics'").fetchone()
    series = json.loads(row[0])["payment_failures_total"]["series"] if row else []
    return sum(values[0] for _, values in series)


def test_kill_9_and_rotation_count_user_metrics_once(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state"
    logs.mkdir()
    config = tmp_path / "loglens.yaml"
    config.write_text(CONFIG)
    args = [str(logs / "*.log"), "--config", str(config), "--state-dir", str(state), "--from-start"]
    first = AgentProcess(args, tmp_path / "first.out")
    writer = Writer(logs / "app.log")
    writer.start()
    wait_for(lambda: _saved_failures(state) > 500, what="a checkpoint with counts")
    assert first.kill() == -signal.SIGKILL
    saved_at_kill = _saved_failures(state)
    writer.join(timeout=120)
    os.rename(logs / "app.log", logs / "app.log.1")  # rotated while loglens is down: the rest is still read
    with open(logs / "app.log", "w", encoding="utf-8") as handle:
        handle.writelines(writer.line() for _ in range(90))

    second = AgentProcess(args, tmp_path / "second.out")
    expected = ({service: float(count) for service, count in writer.failures.items()}, float(writer.cents))
    seen: list[object] = []

    def caught_up() -> bool:
        seen[:] = [_counted(second.url)]
        return seen[0] == expected

    wait_for(caught_up, timeout=60, what=f"user counters == {expected}", last=seen)
    assert second.stop() == 0
    assert saved_at_kill < sum(writer.failures.values()), "the kill should land mid-stream"
    assert _saved_failures(state) == sum(writer.failures.values())


BAD_RULES = pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("{name: bad_regex, type: counter, match: 'a(?=b)'}", "metric 'bad_regex': match 'a(?=b)' is not"),
        ("{name: no_group, type: counter, match: 'a (?P<x>b)', labels: [y]}", "metric 'no_group': label 'y'"),
        ("{name: 'bad-name', type: counter, match: a}", "metric 'bad-name': the name is not a Prometheus"),
        (
            "{name: loglens_lines_total, type: counter, match: a}",
            "metric 'loglens_lines_total': the name starts",
        ),
        (
            "{name: clash, type: counter, match: a}\n  - {name: clash, type: gauge, match: '(?P<v>b)', value: v}",  # noqa: E501
            "metric 'clash': another rule of that name is a counter",
        ),
    ],
)


@BAD_RULES
def test_loglens_check_names_a_bad_rule_in_one_line(tmp_path: Path, rule: str, problem: str) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(f"metrics:\n  - {rule}\n")
    checked = subprocess.run([LOGLENS, "check", "--config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 2
    lines = (checked.stdout + checked.stderr).strip().splitlines()
    assert len(lines) == 1 and problem in lines[0], lines


@BAD_RULES
def test_a_bad_rule_stops_start_up_with_one_line_naming_it(tmp_path: Path, rule: str, problem: str) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(f"metrics:\n  - {rule}\n")
    agent = AgentProcess(
        ["--config", str(config), "--state-dir", str(tmp_path / "s")], tmp_path / "out", wait=False
    )
    assert agent.wait() == 2
    errors = [line for line in agent.output().splitlines() if "metric '" in line]
    assert len(errors) == 1 and problem in errors[0], agent.output()
