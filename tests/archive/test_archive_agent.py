"""The archive attached to the agent, with its real HTTP server: what it archives, its metrics on
/metrics, its health in /api/status, and nothing at all when disabled."""

from __future__ import annotations

from pathlib import Path

import httpx

from archive.archive_helpers import stored_lines
from loglens.agent import Agent, archived
from loglens.archive.local import LocalBackend
from loglens.config import load_settings
from server.agent_helpers import agent_settings, scrape, wait_for
from support import REAL

SAMPLE = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines()[:3000]


def test_ingested_sources_are_archived_always_and_followed_files_when_asked() -> None:
    default = load_settings()
    ingested = {"web"}.__contains__
    assert archived(default, "web", ingested) and not archived(default, "/var/log/nginx/access.log", ingested)
    assert archived(load_settings(archive={"files": True}), "/var/log/nginx/access.log", ingested)


def test_the_agent_archives_followed_files_and_reports_it(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("\n".join([*SAMPLE, "not a log line"]) + "\n", encoding="utf-8")
    settings = agent_settings(logs, tmp_path / "state", archive={"files": True, "segment_max_seconds": 0.5})
    with Agent(settings) as agent:
        wait_for(
            lambda: scrape(agent.url).get(("loglens_archive_segments_uploaded_total", ())),
            what="a segment stored",
        )
        samples = scrape(agent.url)
        assert samples[("loglens_archive_lines_total", ())] == 3001
        assert (
            samples[("loglens_archive_bytes_total", ())]
            < samples[("loglens_archive_uncompressed_bytes_total", ())]
        )
        assert samples[("loglens_archive_upload_failures_total", ())] == 0
        assert samples[("loglens_sink_up", (("sink", "archive"),))] == 1
        sinks = httpx.get(f"{agent.url}/api/status").json()["sinks"]
        (sink,) = [sink for sink in sinks if sink["sink"] == "archive"]  # beside the web page's panels
        assert sink["healthy"]
        detail = sink["detail"]
        assert detail["backend"] == "local" and detail["where"] == str(tmp_path / "state" / "archive")
        assert detail["lines"] == 3001 and detail["upload_failures"] == 0
    stored = stored_lines(LocalBackend(tmp_path / "state" / "archive"))
    assert stored == {str(logs / "access.log"): [*SAMPLE, "not a log line"]}


def test_a_disabled_archive_attaches_nothing(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    settings = agent_settings(logs, tmp_path / "state", archive={"enabled": False})
    with Agent(settings) as agent:
        assert agent.archive is None
        assert [runner.sink.name for runner in agent.runtime.sinks] == ["panels"]  # the web page's, alone
        assert not [name for name, _ in scrape(agent.url) if name.startswith("loglens_archive_")]
        assert [sink["sink"] for sink in httpx.get(f"{agent.url}/api/status").json()["sinks"]] == ["panels"]
    assert not (tmp_path / "state" / "archive-spool").exists()
