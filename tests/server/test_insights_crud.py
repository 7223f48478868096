"""``crud`` in ``GET /api/insights`` of the agent over its real HTTP server, against the lines written."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from loglens.agent import Agent
from server.agent_helpers import agent_settings, wait_for

END = 1_700_000_000
#: One request a line, cycled over the seconds ``END - 9 .. END``: every mapped method and some others.
METHODS = ["GET", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "GET", "PROPFIND"]


def _line(second: int, method: str) -> str:
    stamp = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'10.0.0.1 - - [{stamp}] "{method} /api/item HTTP/1.1" 200 512 "-" "curl/8.5.0"\n'


def _expected(lines: list[str], after: int) -> dict[str, int]:
    """The CRUD counts of the lines dated after ``after``, read off the raw lines."""
    operation = {"POST": "create", "GET": "read", "HEAD": "read", "PUT": "update", "PATCH": "update"}
    operation["DELETE"] = "delete"
    counts = Counter(dict.fromkeys(("create", "read", "update", "delete", "other"), 0))
    for line in lines:
        match = re.search(r"\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) \+0000\] \"(\S+) ", line)
        assert match
        when = datetime.strptime(match[1], "%d/%b/%Y:%H:%M:%S").replace(tzinfo=UTC).timestamp()
        if when > after:
            counts[operation.get(match[2], "other")] += 1
    return dict(counts)


def test_insights_crud_counts_the_window_asked(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [_line(END - 9 + n % 10, METHODS[n % len(METHODS)]) for n in range(220)]
    (logs / "access.log").write_text("".join(lines), encoding="utf-8")
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:

        def insights(window: int) -> dict[str, Any]:
            return httpx.get(f"{agent.url}/api/insights", params={"window": window, "end": END}).json()

        # the totals are folded before the windows: wait for the windows themselves
        wait_for(lambda: insights(10)["hits"] == 220, what="220 hits in the window")
        for window in (10, 3):
            doc = insights(window)
            assert doc["crud"] == _expected(lines, END - window), window
            assert sum(doc["crud"].values()) == sum(doc["methods"].values()) == doc["hits"]
        assert min(insights(10)["crud"].values()) > 0
