"""``loglens demo`` as a new user runs it: generated traffic is followed and served, then it stops cleanly."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_headless_demo_serves_metrics_of_generated_traffic_and_cleans_up() -> None:
    command = ["demo", "--headless", "--duration", "25", "--listen", "127.0.0.1:0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loglens", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    banner = [proc.stderr.readline() for _ in range(6)]
    folder = Path(re.search(r"generated logs in (\S+)", banner[0])[1])  # type: ignore[index]
    url = re.search(r"(http://\S+)/metrics", banner[1])[1]  # type: ignore[index]
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
    assert not folder.parent.exists()
