"""Pushed series are bounded in bytes too: long label values cannot grow /metrics without bound."""

from __future__ import annotations

from pathlib import Path

import httpx

from loglens.agent import Agent
from loglens.config import load_settings
from push.conftest import metric


def test_series_past_the_label_byte_budget_are_refused_and_the_rest_still_update(tmp_path: Path) -> None:
    settings = load_settings(
        None, server={"listen": "127.0.0.1:0"}, state={"dir": tmp_path / "state"},
        push={"max_label_bytes": 4096},
    )  # fmt: skip
    with Agent(settings) as agent, httpx.Client(base_url=agent.url, timeout=10) as client:
        accepted = refused = 0
        for n in range(8):
            labelled = {**metric("jobs", 1), "labels": {"queue": f"{n:04d}" + "q" * 996}}
            response = client.post("/api/metrics", json={"source": "a", "metrics": [labelled]})
            if response.status_code == 200:
                accepted += 1
            else:
                refused += 1
                assert response.status_code == 400
                assert "push.max_label_bytes" in response.json()["errors"][0]["message"]
        again = {**metric("jobs", 5), "labels": {"queue": "0000" + "q" * 996}}
        assert client.post("/api/metrics", json={"source": "a", "metrics": [again]}).status_code == 200
        text = client.get("/metrics").text
    assert (accepted, refused) == (4, 4)  # 4 x (1000 + len("queue") + len("source")) <= 4096 < 5 x that
    assert text.count("app_jobs_total{") == 4
    assert len(text) < 64 * 1024
