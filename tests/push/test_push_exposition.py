"""Pushed metrics pass ``promtool check metrics``; the endpoint is in the OpenAPI document."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import PushServer

Metric = Callable[..., dict[str, Any]]


@pytest.fixture
def promtool() -> str:
    """Path of promtool; skips (fails under CI=true) when it is missing."""
    path = shutil.which("promtool")
    if path is None:
        message = "promtool not found: apt-get install prometheus"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _every_kind(metric: Metric) -> list[dict[str, Any]]:
    return [
        metric("requests", 3, labels={"service": "api", "path": 'a "quoted" \\ path\nnext'}),
        metric("jobs_total", 10, mode="cumulative"),
        metric("queue_depth", -4.5, "gauge", labels={"queue": "mail"}),
        metric("latency_seconds", 0.42, "histogram", labels={"service": "api"}),
        metric(
            "size_bytes", {"buckets": {"100": 3, "1000": 7, "+Inf": 9}, "sum": 4000, "count": 9}, "histogram"
        ),
        metric("rpc_seconds", 0.2, "summary"),
        metric("batch_seconds", {"quantiles": {"0.5": 1.5, "0.9": 3}, "sum": 60, "count": 30}, "summary"),
        metric("empty_seconds", {"quantiles": {}, "sum": 0, "count": 0}, "summary"),
    ]


def test_the_exposition_passes_promtool(
    start_server: Callable[..., PushServer], metric: Metric, promtool: str
) -> None:
    server = start_server(summary_window_seconds=60)
    response = server.push(_every_kind(metric))
    assert response.json()["status"] == "success", response.text
    server.push([metric("rpc_seconds", 0.2, "summary")], source="other")
    server.clock.advance(61)  # the window empties: NaN quantiles, still valid
    text = server.exposition()
    assert "app_requests_total{" in text and "app_jobs_total{" in text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_openmetrics_is_served_when_asked(server: PushServer, metric: Metric) -> None:
    server.push(_every_kind(metric))
    response = server.client.get(
        "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert "# TYPE app_requests counter\n" in response.text
    assert response.text.endswith("# EOF\n")


def test_the_openapi_document_describes_the_endpoint(server: PushServer) -> None:
    document = server.client.get("/api/openapi.json").json()
    operation = document["paths"]["/api/metrics"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["source", "metrics"]
    item = schema["properties"]["metrics"]["items"]
    assert set(item["required"]) == {"name", "metric_type", "help", "value"}
    assert item["properties"]["metric_type"]["enum"] == ["counter", "gauge", "histogram", "summary"]
    assert "$ref" not in str(schema)
    assert {"200", "400", "401", "413", "415"} <= set(operation["responses"])
    assert "security" not in operation
