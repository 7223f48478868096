"""Helpers for tests that run the agent for real: settings on a free port, and waiting with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from loglens.config import Settings, load_settings

T = TypeVar("T")


def agent_settings(logs: Path, state_dir: Path, **overrides: Any) -> Settings:
    """Settings following ``logs/*.log`` from the start, on a free loopback port, polling fast."""
    values: dict[str, Any] = {
        "sources": [{"path": str(logs / "*.log")}],
        "server": {"listen": "127.0.0.1:0"},
        "state": {"dir": state_dir, "checkpoint_interval_seconds": 0.2},
        "tail": {"poll_interval_seconds": 0.02, "from_start": True},
    }
    values.update(overrides)
    return load_settings(None, **values)


def wait_for(
    probe: Callable[[], T | None], timeout: float = 20.0, what: str = "condition", last: object = None
) -> T:
    """Call ``probe`` until it returns something truthy, or fail after ``timeout`` seconds.

    ``last``, if given, is shown in the failure message (a list the probe fills with what it saw).
    """
    deadline = time.monotonic() + timeout
    value: T | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.TransportError:
            value = None
        if value:
            return value
        time.sleep(0.02)
    seen = last if last is not None else value
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last seen {seen!r}")


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as ``{(sample name, sorted labels): value}``."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def lines_total(url: str) -> dict[str, float]:
    """``loglens_lines_total`` by source."""
    samples = scrape(url).items()
    return {
        dict(labels)["source"]: value for (name, labels), value in samples if name == "loglens_lines_total"
    }
