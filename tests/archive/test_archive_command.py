"""``loglens archive ls|cat|replay`` as subprocesses, over an archive written by the sink: the same
report as ``loglens replay`` on the original lines, the lines back, and the time and source filters."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from archive.archive_helpers import batch, sink, spool_files
from loglens.archive.local import LocalBackend
from loglens.cli import main
from loglens.clock import FrozenClock

LOGLENS = [sys.executable, "-m", "loglens"]
T0 = 1_796_112_000.0  # 2026-12-01T08:00:00Z


def _loglens(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOGLENS, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


class Saves:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        return self.count


def _archive(
    state: Path,
    sources: dict[str, list[str]],
    clock: FrozenClock,
    per_batch: int = 1000,
    max_seconds: float = 300,
) -> None:
    """Archive the lines of each source in batches a second apart, a checkpoint after each, then stop."""
    saves = Saves()
    archive = sink(state, clock=clock, saves=saves, max_bytes=64 * 1024, max_seconds=max_seconds)
    for label, lines in sources.items():
        for first in range(0, len(lines), per_batch):
            archive.write(batch(label, lines[first : first + per_batch]))
            archive.state()
            saves.count += 1
            clock.advance(1)
    archive.state()
    saves.count += 1
    archive.close()


@pytest.fixture(scope="module")
def access_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "access.log"
    generate = ["generate", "-n", "20000", "--start", "2026-12-01T07:00:00Z", "--seed", "3", "-o", str(path)]
    subprocess.run([*LOGLENS, *generate], check=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write("a line no format reads\n\n")
    return path


def _report(output: str) -> dict[str, object]:
    report = json.loads(output)
    del report["files"], report["elapsed_seconds"]
    return dict(report)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_archive_replay_gives_the_numbers_of_replay_on_the_original_lines(
    access_log: Path, tmp_path: Path
) -> None:
    lines = access_log.read_text(encoding="utf-8").splitlines()
    _archive(tmp_path, {str(access_log): lines}, FrozenClock(T0))
    assert len(list(LocalBackend(tmp_path / "archive").segments())) > 3
    archived = _loglens("archive", "replay", "--state-dir", str(tmp_path), "--output", "json")
    original = _loglens("replay", "--output", "json", str(access_log))
    assert archived.returncode == original.returncode == 0, archived.stderr
    assert _report(archived.stdout) == _report(original.stdout)
    assert _report(archived.stdout)["lines"] == 20002
    # the Prometheus report is per source: the archive's segments fold back into their source label
    archived = _loglens("archive", "replay", "--state-dir", str(tmp_path), "--output", "prometheus")
    original = _loglens("replay", "--output", "prometheus", str(access_log))
    assert _samples(archived.stdout) == _samples(original.stdout)
    assert f'source="{access_log}"' in archived.stdout
    # the web page as one file: the same totals, each segment shown by its key
    page = _loglens("archive", "replay", "--state-dir", str(tmp_path), "--output", "html").stdout
    data = re.search(r'id="loglens-data">(.*?)</script>', page, re.S)
    assert data, page[:200]
    doc = json.loads(data[1])
    whole = _report(_loglens("replay", "--output", "json", str(access_log)).stdout)
    assert {key: doc["summary_by_source"][""][key] for key in ("lines", "hits", "bytes", "status")} == {
        key: whole[key] for key in ("lines", "hits", "bytes", "status")
    }
    segments = {segment.name.key for segment in LocalBackend(tmp_path / "archive").segments()}
    assert set(doc["sources"]) == segments == set(doc["meta"]["files"])


def test_archive_cat_prints_every_line_stored_or_pending_but_not_those_being_written(tmp_path: Path) -> None:
    _archive(tmp_path, {"ingest:web": ["w1", "w2"], "ingest:api": ["a1"]}, FrozenClock(T0), per_batch=1)
    saves = Saves()
    archive = sink(tmp_path, saves=saves, clock=FrozenClock(T0 + 3600), max_bytes=1024)
    archive.write(batch("ingest:web", [f"pending {n}" for n in range(500)]))
    archive.state()  # closed (by size), held until a checkpoint is saved: still in the spool
    archive.write(batch("ingest:web", ["being written"]))
    archive.state()
    assert any(path.name.endswith(".log.gz") for path in spool_files(tmp_path))
    out = _loglens("archive", "cat", "--state-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["w1", "w2", "a1", *[f"pending {n}" for n in range(500)]]
    listed = _loglens("archive", "ls", "--state-dir", str(tmp_path)).stdout.splitlines()
    assert [line.split()[2] for line in listed] == ["stored", "stored", "pending"]
    archive.publisher.close(0)


def test_archive_ls_selects_by_time_range_and_source(tmp_path: Path) -> None:
    sources = {"ingest:web": ["w1", "w2", "w3"], "ingest:api": ["a1"]}
    _archive(tmp_path, sources, FrozenClock(T0), per_batch=1, max_seconds=1)  # a segment a line
    for segment in LocalBackend(tmp_path / "archive").segments():  # each was last written at its start
        os.utime(tmp_path / "archive" / segment.name.key, (segment.name.started, segment.name.started))

    def ls(*args: str) -> list[str]:
        out = _loglens("archive", "ls", "--state-dir", str(tmp_path), *args)
        assert out.returncode == 0, out.stderr
        return [line.split()[3] for line in out.stdout.splitlines()]

    assert ls() == ["ingest:web", "ingest:web", "ingest:web", "ingest:api"]
    assert ls("--source", "ingest:api") == ["ingest:api"]
    assert ls("--since", "2026-12-01T08:00:01Z", "--until", "2026-12-01T08:00:02Z") == ["ingest:web"] * 2
    assert ls("--since", "2026-12-01T09:00:00+01:00", "--source", "ingest:web") == ["ingest:web"] * 3
    assert ls("--until", "2026-12-01T07:59:59Z") == []
    assert ls("--since", "1h") == []  # these segments were last written in the past (the frozen clock's)
    out = _loglens("archive", "ls", "--state-dir", str(tmp_path), "--since", "yesterday")
    assert out.returncode == 2 and "neither an RFC 3339 time nor a time ago" in out.stderr


def test_an_empty_archive_lists_nothing_and_replays_an_empty_report(tmp_path: Path) -> None:
    assert _loglens("archive", "ls", "--state-dir", str(tmp_path)).stdout == ""
    out = _loglens("archive", "replay", "--state-dir", str(tmp_path), "--output", "json")
    assert out.returncode == 0 and json.loads(out.stdout)["lines"] == 0
    assert "no archived segment matches" in out.stderr


@pytest.mark.parametrize("command", ["ls", "cat", "replay"])
def test_every_archive_help_ends_with_examples(command: str) -> None:
    result = CliRunner().invoke(main, ["archive", command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    tail = [line.strip() for line in result.output.rstrip().splitlines()]
    examples = tail[tail.index("Examples:") + 1 :]
    assert 2 <= len(examples) <= 3 and all(line.startswith("loglens archive ") for line in examples)
    assert "--state-dir" in result.output and "--config" in result.output
