"""``loglens watch`` as a user runs it: in tmux, while ``loglens generate`` writes a traffic spike."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

TMUX = shutil.which("tmux")
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(
    TMUX is None and os.environ.get("CI") != "true",
    reason="tmux is not installed (apt-get install tmux)",
)


class Pane:
    """A detached tmux session on a private server, running one command; the pane stays when it exits."""

    def __init__(self, command: str, width: int = 100, height: int = 30) -> None:
        self.socket = f"loglens-test-{uuid.uuid4().hex[:8]}"
        self.tmux(
            [
                "start-server",
                ";",
                "set-option",
                "-g",
                "remain-on-exit",
                "on",
                ";",
                "new-session",
                "-d",
                "-s",
                "watch",
                "-x",
                str(width),
                "-y",
                str(height),
                command,
            ]
        )

    def tmux(self, args: list[str]) -> str:
        assert TMUX is not None, "tmux is required under CI=true"
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux(["capture-pane", "-p", "-t", "watch"])

    def running(self) -> bool:
        return self.tmux(["display-message", "-p", "-t", "watch", "#{pane_dead}"]).strip() == "0"

    def close(self) -> None:
        self.tmux(["kill-server"])


def wait_for(check: Callable[[], bool], what: str, pane: Pane, timeout: float = 60) -> None:
    """Poll ``check`` until it holds; fail with the screen when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; screen:\n{pane.screen()}")
        time.sleep(0.2)


@pytest.fixture
def pane_factory() -> Iterator[Callable[[str], Pane]]:
    panes: list[Pane] = []

    def make(command: str) -> Pane:
        panes.append(Pane(command))
        return panes[-1]

    yield make
    for pane in panes:
        pane.close()


def test_spike_fires_on_screen_and_recovers(tmp_path: Path, pane_factory: Callable[[str], Pane]) -> None:
    log, alerts = tmp_path / "access.log", tmp_path / "alerts.jsonl"
    log.touch()
    watch = (
        f"{BIN / 'loglens'} watch {log} --time-window 5 --alert-window 5 --alert-threshold 10 --refresh 0.5 "
        f"--alert-log {alerts}"
    )
    pane = pane_factory(watch)
    wait_for(lambda: "No alert - hits = 0.0" in pane.screen(), "the console", pane)
    writer = subprocess.Popen(
        [
            BIN / "loglens",
            "generate",
            "-o",
            str(log),
            "-r",
            "4",
            "-s",
            "spike@4+8:factor=6",
            "-d",
            "40",
            "--seed",
            "7",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: "High traffic generated an alert - hits = " in pane.screen(), "the alert", pane)
        screen = pane.screen()
        assert "triggered at" in screen and "ongoing" in screen
        wait_for(lambda: "High traffic alert recovered at " in pane.screen(), "the recovery", pane)
        assert "max " in pane.screen()
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    events = [orjson.loads(line) for line in alerts.read_bytes().splitlines()]
    # A writer starved for a few seconds on a loaded machine, then catching up, can make the rule (it has
    # no `for:`) flap once more before the writer is stopped; every event must still alternate and agree
    # with the threshold.
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["fire", "recover"]
    assert kinds == ["fire", "recover"] * (len(kinds) // 2) + ["fire"] * (len(kinds) % 2)
    assert all((e["value"] >= 10) == (e["event"] == "fire") for e in events)
    pane.tmux(["send-keys", "-t", "watch", "q"])
    wait_for(lambda: not pane.running(), "q to quit", pane, timeout=20)
    assert "Traceback" not in pane.screen()


def _exited(status: Path) -> Callable[[], bool]:
    """Whether the command wrote its exit status (tmux's own record of it is not always kept)."""
    return lambda: status.exists() and status.read_text().strip() != ""


def test_ctrl_c_quits_watch_at_once(tmp_path: Path, pane_factory: Callable[[str], Pane]) -> None:
    log, status = tmp_path / "access.log", tmp_path / "status"
    log.touch()
    pane = pane_factory(f"{BIN / 'loglens'} watch {log} --refresh 0.5; echo $? > {status}")
    wait_for(lambda: "No alert - hits = 0.0" in pane.screen(), "the console", pane)
    pane.tmux(["send-keys", "-t", "watch", "C-c"])
    wait_for(_exited(status), "Ctrl-C to quit", pane, timeout=20)
    assert status.read_text().strip() == "0"
    assert "Traceback" not in pane.screen()


def test_ctrl_c_quits_the_demo_which_prints_its_schedule(
    tmp_path: Path, pane_factory: Callable[[str], Pane]
) -> None:
    status = tmp_path / "status"
    pane = pane_factory(f"{BIN / 'loglens'} demo --listen 127.0.0.1:0; echo $? > {status}")
    wait_for(lambda: "schedule: next spike in" in pane.screen(), "the demo's schedule line", pane)
    assert "/metrics" in pane.screen()
    pane.tmux(["send-keys", "-t", "watch", "C-c"])
    wait_for(_exited(status), "Ctrl-C to quit", pane, timeout=20)
    assert status.read_text().strip() == "0"
    screen = pane.screen()
    assert "incident schedule (seconds from the demo's start):" in screen
    assert "Traceback" not in screen
