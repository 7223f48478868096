"""The agent in-process with its real HTTP server: /metrics, /api/status, /api/insights, graceful stop."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from loglens.agent import Agent
from loglens.errors import LoglensError
from loglens.sources.file_state import FileState
from loglens.state.checkpoint import CheckpointStore
from server.agent_helpers import agent_settings, lines_total, scrape, wait_for
from support import REAL

SAMPLE = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines(keepends=True)[:2000]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


def _write(path: Path, lines: list[str]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(lines)


def test_metrics_status_and_insights_report_the_lines_written(logs: Path, tmp_path: Path) -> None:
    _write(logs / "access.log", SAMPLE[:1500])
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:
        source = str(logs / "access.log")
        _write(logs / "access.log", SAMPLE[1500:])
        wait_for(lambda: lines_total(agent.url).get(source) == 2000, what="2000 lines on /metrics")

        samples = scrape(agent.url)
        ok = sum(v for (name, labels), v in samples.items()
                 if name == "loglens_http_requests_total" and ("status", "200") in labels)  # fmt: skip
        assert ok == sum(1 for line in SAMPLE if '" 200 ' in line)
        sections = [labels for (name, labels) in samples if name == "loglens_http_section_requests_total"]
        assert len(sections) <= agent.settings.limits.section_limit + 1
        assert samples[("loglens_source_rotations_total", (("source", source),))] == 0
        assert samples[("loglens_source_lag_bytes", (("source", source),))] == 0
        assert any(name == "process_cpu_seconds_total" for name, _ in samples)

        status = httpx.get(f"{agent.url}/api/status").json()
        assert status["status"] == "running"
        assert status["metrics_count"] >= len([k for k in samples if k[0].startswith("loglens_")])
        (entry,) = status["sources"]
        assert (entry["source"], entry["lines"], entry["lag_bytes"]) == (source, 2000, 0)
        assert entry["offset"] == entry["size"] == (logs / "access.log").stat().st_size

        insights = httpx.get(f"{agent.url}/api/insights", params={"window": 600, "at": "latest"}).json()
        assert insights["window_seconds"] == 600
        assert insights["hits"] > 0
        assert set(insights["status"]) <= {str(code) for code in range(100, 600)}
        bad = httpx.get(f"{agent.url}/api/insights", params={"window": 0})
        assert bad.status_code == 422
        assert "window" in bad.text

        health = httpx.get(f"{agent.url}/api/health").json()
        assert health["status"] == "ok"


def test_metrics_negotiate_openmetrics_and_scraping_changes_nothing(logs: Path, tmp_path: Path) -> None:
    _write(logs / "a.log", SAMPLE[:300])
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:
        wait_for(lambda: lines_total(agent.url).get(str(logs / "a.log")) == 300, what="300 lines")
        openmetrics = httpx.get(f"{agent.url}/metrics", headers={"Accept": "application/openmetrics-text"})
        assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
        assert openmetrics.text.endswith("# EOF\n") and openmetrics.text.count("# EOF") == 1
        names = {family.name for family in openmetrics_families(openmetrics.text)}  # parses, whole
        assert {"loglens_lines", "loglens_source_up", "process_cpu_seconds"} <= names
        plain = httpx.get(f"{agent.url}/metrics")
        assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")

        def totals() -> Counter[str]:
            samples = scrape(agent.url).items()
            return Counter({f"{n}{labels}": v for (n, labels), v in samples if n.startswith("loglens_")
                            and n.endswith("_total")})  # fmt: skip

        first = totals()
        assert [totals() for _ in range(3)] == [first] * 3


def test_stop_saves_a_final_checkpoint_and_a_restart_resumes_from_it(logs: Path, tmp_path: Path) -> None:
    state = {"dir": tmp_path / "state", "checkpoint_interval_seconds": 3600}
    settings = agent_settings(logs, tmp_path / "state", state=state)
    source = str(logs / "a.log")
    _write(logs / "a.log", SAMPLE[:100])
    with Agent(settings) as agent:
        wait_for(lambda: lines_total(agent.url).get(source) == 100, what="100 lines")
        _write(logs / "a.log", SAMPLE[100:150])
        wait_for(lambda: lines_total(agent.url).get(source) == 150, what="150 lines")
    store = CheckpointStore(tmp_path / "state")
    snapshot = store.load()
    store.close()
    assert snapshot is not None
    assert snapshot.totals[source]["lines"] == 150
    offsets = [FileState.from_row(row).offset for row in snapshot.sources["files"]["files"]]
    assert offsets == [(logs / "a.log").stat().st_size]

    _write(logs / "a.log", SAMPLE[150:160])
    with Agent(settings) as agent:
        wait_for(lambda: lines_total(agent.url).get(source) == 160, what="160 lines after the restart")


def test_a_second_agent_on_the_same_state_folder_fails_with_one_line(logs: Path, tmp_path: Path) -> None:
    with Agent(agent_settings(logs, tmp_path / "state")):
        second = Agent(agent_settings(logs, tmp_path / "state"))
        with pytest.raises(LoglensError, match="in use by another loglens"):
            second.start()


def test_the_listen_address_in_use_fails_with_one_line(logs: Path, tmp_path: Path) -> None:
    with Agent(agent_settings(logs, tmp_path / "one")) as agent:
        _, port = agent.address
        other = Agent(agent_settings(logs, tmp_path / "two", server={"listen": f"127.0.0.1:{port}"}))
        with pytest.raises(LoglensError, match=f"cannot listen on 127.0.0.1:{port}"):
            other.start()


def test_push_api_is_served_next_to_the_metrics(logs: Path, tmp_path: Path) -> None:
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:
        response = httpx.post(
            f"{agent.url}/api/metrics", content=b"x", headers={"content-type": "text/plain"}
        )
        assert response.status_code == 415
