"""A real ``loglens run`` facing files that used to freeze, break or blind it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from loglens.sources.file_state import FileState
from loglens.state.checkpoint import CheckpointStore
from server.agent_helpers import AgentProcess, lines_total, wait_for

pytestmark = pytest.mark.integration

LINES = b"".join(b"2024-05-01T12:00:0%dZ INFO line %d\n" % (n, n) for n in range(3))


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    folder.mkdir()
    yield folder


def test_a_file_name_that_is_not_utf8_is_counted_shown_and_checkpointed(logs: Path, tmp_path: Path) -> None:
    raw = os.fsencode(logs) + b"/caf\xe9.log"
    with open(raw, "wb") as handle:
        handle.write(LINES)
    state = tmp_path / "state"
    agent = AgentProcess([str(logs), "--state-dir", str(state), "--from-start"], tmp_path / "out")
    shown = f"{logs}/caf\\xe9.log"  # the byte that is not UTF-8, escaped
    try:
        wait_for(lambda: lines_total(agent.url).get(shown) == 3, what=f"3 lines of {shown} on /metrics")
        families = list(text_string_to_metric_families(httpx.get(f"{agent.url}/metrics", timeout=5).text))
        up = [s for f in families for s in f.samples if s.name == "loglens_source_up"]
        assert [(s.labels["source"], s.value) for s in up] == [(shown, 1.0)]
        response = httpx.get(f"{agent.url}/api/status", timeout=5)
        assert response.status_code == 200
        [source] = response.json()["sources"]
        assert (source["source"], source["path"], source["lines"]) == (shown, shown, 3)
        assert [f["path"] for f in source["files"]] == [shown]
        wait_for(lambda: httpx.get(f"{agent.url}/api/status", timeout=5).json()["checkpoint"]["saves"] > 0,
                 what="a checkpoint saved")  # fmt: skip
        assert httpx.get(f"{agent.url}/api/ready", timeout=5).status_code == 200
    finally:
        assert agent.stop() == 0
    store = CheckpointStore(state)
    snapshot = store.load()
    store.close()
    assert snapshot is not None
    [saved] = [FileState.from_row(row) for row in snapshot.sources["files"]["files"]]
    assert (os.fsencode(saved.path), saved.offset) == (raw, len(LINES))
    assert "Traceback" not in agent.output()
