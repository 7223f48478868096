"""Pushed names cannot take the names of loglens's own metrics or of its process, platform and GC
collectors, even with an empty prefix: the agent's exposition keeps one family per name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from loglens.agent import Agent
from loglens.config import load_settings
from push.conftest import metric

TAKEN = [
    ("process_cpu_seconds", "counter", "process_cpu_seconds"),
    ("process_open_fds", "gauge", "process_open_fds"),
    ("python_info", "gauge", "python_info"),
    ("python_gc_objects_collected", "counter", "python_gc_objects_collected"),
    ("loglens_lines", "counter", "loglens_lines"),
    ("process", "counter", "process_total"),  # a counter named process exposes process_total
    ("python", "histogram", "python_bucket"),
]


@pytest.fixture
def client(tmp_path: Path) -> Any:
    settings = load_settings(
        None, server={"listen": "127.0.0.1:0"}, state={"dir": tmp_path / "state"}, push={"prefix": ""}
    )
    with Agent(settings) as agent, httpx.Client(base_url=agent.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize(("name", "metric_type", "sample"), TAKEN)
def test_a_pushed_name_that_clashes_is_refused_naming_the_problem(
    client: Any, name: str, metric_type: str, sample: str
) -> None:
    response = client.post("/api/metrics", json={"source": "a", "metrics": [metric(name, 1, metric_type)]})
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "name"
    assert sample in error["message"]
    text = client.get("/metrics").text
    family = sample.removesuffix("_total").removesuffix("_bucket")
    assert text.count(f"# TYPE {family} ") <= 1


def test_other_names_are_still_taken_as_pushed(client: Any) -> None:
    body = {"source": "a", "metrics": [metric("processed", 2), metric("pythonic_jobs", 1, "gauge")]}
    assert client.post("/api/metrics", json=body).status_code == 200
    text = client.get("/metrics").text
    assert 'processed_total{source="a"} 2.0' in text
    assert 'pythonic_jobs{source="a"} 1.0' in text
