"""A real ``loglens run`` facing files that used to freeze, break or blind it."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from loglens.sources.file_state import FileState
from loglens.state.checkpoint import CheckpointStore
from server.agent_helpers import AgentProcess, lines_total, scrape, wait_for, without_file_permission_bypass

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


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def test_more_files_than_descriptors_leave_the_server_and_checkpoint_working(
    logs: Path, tmp_path: Path
) -> None:
    for n in range(2000):
        (logs / f"f{n:04d}.log").write_bytes(LINES.replace(b"line", b"file %d line" % n))
    args = [str(logs / "*.log"), "--state-dir", str(tmp_path / "state"), "--from-start", "--format", "level"]
    agent = AgentProcess(args, tmp_path / "out", preexec_fn=_limit_descriptors)
    try:
        seen: list[object] = []

        def settled() -> bool:
            samples = [(name, dict(labels), value) for (name, labels), value in scrape(agent.url).items()]
            lines = [value for name, _, value in samples if name == "loglens_lines_total" and value]
            waiting = sum(value for name, labels, value in samples if name == "loglens_source_errors_total"
                          and labels["reason"] == "too_many_open_files")  # fmt: skip
            seen[:] = [len(lines), sum(lines), waiting]
            return len(lines) + waiting == 2000 and sum(lines) == 3 * len(lines)

        wait_for(settled, timeout=60, what="every file followed or counted as waiting", last=seen)
        followed = int(seen[0])  # type: ignore[call-overload]
        assert 1024 - 300 < followed < 1024
        for _ in range(3):  # the server keeps answering, the checkpoint keeps saving
            assert httpx.get(f"{agent.url}/metrics", timeout=5).status_code == 200
        status = httpx.get(f"{agent.url}/api/status", timeout=5).json()
        assert status["checkpoint"]["healthy"] and status["checkpoint"]["saves"] > 0
        waiting = [s for s in status["sources"] if not s["healthy"]]
        assert len(waiting) == 2000 - followed
        assert waiting[0]["last_error"] == "not followed: too many open files"
    finally:
        assert agent.stop() == 0
    output = agent.output().splitlines()
    assert len(output) < 10, output[:20]


def test_a_file_that_cannot_be_read_is_shown_failing_then_recovers(logs: Path, tmp_path: Path) -> None:
    (logs / "a.log").write_bytes(LINES)
    (logs / "secret.log").write_bytes(LINES)
    (logs / "secret.log").chmod(0)
    args = [str(logs / "*.log"), "--state-dir", str(tmp_path / "state"), "--from-start"]
    agent = AgentProcess(args, tmp_path / "out", preexec_fn=without_file_permission_bypass)
    secret = str(logs / "secret.log")
    try:
        wait_for(lambda: lines_total(agent.url).get(str(logs / "a.log")) == 3, what="a.log's lines")
        samples = wait_for(lambda: _source_samples(agent.url, secret), what="secret.log on /metrics")
        assert samples["loglens_source_up"] == 0
        assert samples["loglens_source_errors_total", "permission"] >= 1
        sources = httpx.get(f"{agent.url}/api/status", timeout=5).json()["sources"]
        [status] = [s for s in sources if s["source"] == secret]
        assert (status["healthy"], status["last_error"], status["lines"]) == (False, "Permission denied", 0)
        assert status["errors"]["permission"] >= 1
        ready = httpx.get(f"{agent.url}/api/ready", timeout=5)
        assert ready.status_code == 503
        assert f"source {secret} fails: Permission denied" in ready.json()["problems"]
        (logs / "secret.log").chmod(0o644)
        wait_for(lambda: lines_total(agent.url).get(secret) == 3, timeout=60, what="secret.log read at last")
        assert _source_samples(agent.url, secret)["loglens_source_up"] == 1
    finally:
        assert agent.stop() == 0


def _source_samples(url: str, source: str) -> dict[object, float]:
    """The loglens_source_* samples of ``source`` (errors keyed with their reason)."""
    out: dict[object, float] = {}
    for (name, labels), value in scrape(url).items():
        found = dict(labels)
        if found.get("source") == source and name.startswith("loglens_source_"):
            out[(name, found["reason"]) if "reason" in found else name] = value
    return out
