"""``loglens demo`` as a new user runs it: generated traffic is followed and served, then it stops cleanly."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx

from loglens.agent import Agent
from loglens.demo import ALERT, demo_settings, start_generator
from loglens.ui.console.monitor import Monitor
from server.agent_helpers import lines_total, scrape, wait_for


def test_headless_demo_serves_metrics_of_generated_traffic_and_cleans_up() -> None:
    command = ["demo", "--headless", "--duration", "25", "--listen", "127.0.0.1:0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loglens", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    banner = ""
    while "Ctrl-C stops the demo." not in banner:
        line = proc.stderr.readline()
        assert line, f"the demo ended before its banner: {banner}"
        banner += line
    folder = Path(re.search(r"generated logs in (\S+)", banner)[1])  # type: ignore[index]
    url = re.search(r"metrics +(http://\S+)/metrics", banner)[1]  # type: ignore[index]
    assert re.search(r"spike +40 s to +80 s +not reached", banner), banner
    lines = 0.0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and lines < 20:
        text = httpx.get(f"{url}/metrics", timeout=5).text
        lines = sum(float(v) for v in re.findall(r"^loglens_lines_total\{[^}]*\} (\S+)$", text, re.M))
        time.sleep(0.2)  # polling a live server for a condition, bounded by the deadline
    assert lines >= 20
    assert httpx.get(f"{url}/api/health", timeout=5).json()["status"] == "ok"
    status = httpx.get(f"{url}/api/status", timeout=5).json()
    assert len(status["sources"]) == 3
    assert proc.wait(timeout=30) == 0
    assert re.search(r"error-burst +100 s to +110 s +not reached", proc.stderr.read())
    assert not folder.parent.exists()


def test_the_console_and_metrics_of_the_demo_agree_on_every_total(tmp_path: Path) -> None:
    """One runtime feeds both: after the generator stops and the runtime has read everything, the
    console's lines, parse errors and hits are exactly what /metrics exposes."""
    (tmp_path / "logs").mkdir()
    generator = start_generator(tmp_path / "logs")
    agent = Agent(demo_settings(tmp_path, "127.0.0.1:0")).start()
    try:
        monitor = Monitor(agent.runtime, replace(ALERT, time_window=600))
        wait_for(lambda: sum(lines_total(agent.url).values()) >= 40, what="40 generated lines on /metrics")
        generator.terminate()
        generator.wait(10)
        written = sum(path.read_bytes().count(b"\n") for path in (tmp_path / "logs").iterdir())
        wait_for(lambda: sum(lines_total(agent.url).values()) == written, what=f"all {written} lines read")
        snap = monitor.refresh()
        samples = scrape(agent.url)
    finally:
        generator.kill()
        agent.stop()

    def total(name: str) -> float:
        return sum(value for (family, _), value in samples.items() if family == name)

    assert snap.lines == total("loglens_lines_total") > 0
    assert sum(snap.parse_errors.values()) == total("loglens_parse_errors_total")
    assert snap.window["hits"] == total("loglens_http_requests_total")
    assert snap.window["bytes"] == total("loglens_http_response_bytes_total")
