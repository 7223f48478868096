"""``loglens replay`` against the real goaccess on the same file: same status counts, same total bytes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from support import REAL, require_tool

pytestmark = pytest.mark.integration


def test_status_counts_and_bytes_equal_goaccess() -> None:
    goaccess = require_tool("goaccess", "goaccess")
    sample = REAL / "apache_combined_10k.log"
    report = subprocess.run(
        [goaccess, str(sample), "--log-format=COMBINED", "-o", "json", "--no-progress"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True,
    )  # fmt: skip
    peer = json.loads(report.stdout)
    peer_status: Counter[str] = Counter()
    for group in peer["status_codes"]["data"]:
        for item in group["items"]:
            peer_status[re.match(r"\d{3}", item["data"])[0]] += item["hits"]["count"]  # type: ignore[index]

    ours = json.loads(
        subprocess.run(
            [sys.executable, "-m", "loglens", "replay", "--output", "json", str(sample)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert ours["lines"] == 10_000
    assert ours["parse_errors"] == {}
    assert ours["status"] == dict(peer_status)
    assert ours["bytes"] == peer["general"]["bandwidth"]
    assert ours["hits"] == peer["general"]["valid_requests"]
