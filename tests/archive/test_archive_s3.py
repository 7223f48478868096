"""The S3 backend against a real moto_server on a free port, through boto3 over HTTP: an upload, a
restart with segments still pending, retries while the server is down, and retention."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.archive_helpers import S3_ENV, MotoServer, batch, moto_available, sink, spool_files, wait_until
from loglens.archive.backend import Backend
from loglens.archive.local import LocalBackend
from loglens.archive.s3 import S3Backend
from loglens.clock import FrozenClock
from loglens.config_sections import S3Config
from support import free_port

pytestmark = pytest.mark.integration


class Saves:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        return self.count


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    moto_available()
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    server = MotoServer(free_port(), tmp_path / "moto.log")
    try:
        yield server
    finally:
        server.stop()


def _s3(server: MotoServer, prefix: str = "logs/prod") -> S3Backend:
    return S3Backend(S3Config(endpoint_url=server.url, bucket="archive", prefix=prefix))


def _checkpointed(archive: object, saves: Saves) -> None:
    """A checkpoint saved, and seen saved by the next one."""
    archive.state()  # type: ignore[attr-defined]
    saves.count += 1
    archive.state()  # type: ignore[attr-defined]


def test_a_closed_segment_is_uploaded_under_the_prefix(moto: MotoServer, tmp_path: Path) -> None:
    moto.start()
    saves = Saves()
    archive = sink(tmp_path, _s3(moto), saves=saves, max_bytes=1024)
    lines = [f"ingest line {n} {'y' * (n % 300)}" for n in range(2000)]
    archive.write(batch("ingest:web", lines))
    _checkpointed(archive, saves)
    wait_until(lambda: archive.report().pending.segments == 0, "the segment uploaded")
    (key,) = moto.keys()
    assert key.startswith("logs/prod/ingest%3Aweb/") and key.endswith(".log.gz")
    body = moto.client().get_object(Bucket="archive", Key=key)["Body"].read()
    assert gzip.decompress(body).decode().splitlines() == lines
    assert spool_files(tmp_path) == []
    report = archive.report()
    assert report.stored == 1 and report.failures == 0 and report.last_lag is not None
    archive.close()


def test_segments_still_pending_at_a_restart_are_uploaded_then(moto: MotoServer, tmp_path: Path) -> None:
    saves = Saves()
    first = sink(tmp_path, _s3(moto), saves=saves)  # nothing listens on the port yet
    first.write(batch("ingest:web", ["one", "two"]))
    checkpoint = first.state()
    saves.count += 1
    first.close()  # closes the segment; its upload fails, so it stays in the spool
    assert [path.name.endswith(".log.gz") for path in spool_files(tmp_path)] == [True]
    assert first.report().failures >= 1 and moto.process is None

    moto.start()
    second = sink(tmp_path, _s3(moto), saves=Saves())
    second.restore(checkpoint)
    wait_until(lambda: moto.keys(), "the pending segment uploaded after the restart")
    (key,) = moto.keys()
    body = moto.client().get_object(Bucket="archive", Key=key)["Body"].read()
    assert gzip.decompress(body) == b"one\ntwo\n"
    wait_until(lambda: spool_files(tmp_path) == [], "the spool emptied")
    second.close()


def test_uploads_are_retried_while_the_server_is_down(moto: MotoServer, tmp_path: Path) -> None:
    moto.start()
    saves = Saves()
    archive = sink(tmp_path, _s3(moto), saves=saves, max_seconds=60)
    clock = archive.clock
    assert isinstance(clock, FrozenClock)
    moto.stop()
    archive.write(batch("ingest:api", ["while the server is down"]))
    archive.state()
    saves.count += 1
    clock.advance(60)
    _checkpointed(archive, saves)  # the segment closes by age, and its close is saved
    wait_until(lambda: archive.report().failures >= 1, "a failed upload")
    health = archive.health()
    assert not health.healthy and health.last_error
    assert health.detail["pending_segments"] == 1 and health.detail["oldest_pending_closed_at"] is not None

    moto.start()  # the same port, a fresh server: its bucket made again
    wait_until(lambda: moto.keys(), "the segment uploaded once the server is back", timeout=90)
    assert archive.health().healthy and archive.report().pending.segments == 0
    archive.close()


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_retention_deletes_segments_older_than_the_age(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend: Backend = LocalBackend(tmp_path / "archive")
    if kind == "s3":
        moto: MotoServer = request.getfixturevalue("moto")
        backend = _s3(moto.start(), prefix="")
    clock = FrozenClock(1_796_111_803.0)
    saves = Saves()
    archive = sink(tmp_path, backend, clock=clock, saves=saves, retention=7 * 86400, max_seconds=3600)
    for day in range(10):
        archive.write(batch("ingest:web", [f"day {day}"]))
        archive.state()
        saves.count += 1
        clock.advance(86400)
    _checkpointed(archive, saves)
    wait_until(lambda: archive.report().pending.segments == 0, "every segment stored")
    assert len(list(backend.segments())) == 10
    assert archive.publisher.expire() == 3  # days 0, 1 and 2 started more than 7 days before day 10
    kept = sorted(segment.name.start for segment in backend.segments())
    assert len(kept) == 7 and kept[0].startswith("20261204")
    assert archive.report().expired == 3
    archive.close()


def test_archive_ls_cat_and_replay_read_s3(moto: MotoServer, tmp_path: Path) -> None:
    moto.start()
    saves = Saves()
    archive = sink(tmp_path, _s3(moto), saves=saves, max_bytes=1024)
    lines = [
        f'10.0.0.{n % 9} - - [01/Dec/2026:07:00:{n % 60:02d} +0000] "GET /s3/{n} HTTP/1.1" 200 5'
        for n in range(900)
    ]
    for first in range(0, 900, 300):
        archive.write(batch("ingest:web", lines[first : first + 300]))
        archive.state()
        saves.count += 1
    _checkpointed(archive, saves)
    archive.close()
    assert len(moto.keys()) >= 2
    config = tmp_path / "loglens.yaml"
    config.write_text(
        f"archive: {{backend: s3, s3: {{endpoint_url: '{moto.url}', bucket: archive, prefix: logs/prod}}}}\n"
    )
    common = ["--config", str(config), "--state-dir", str(tmp_path)]
    env = {**os.environ, **S3_ENV}

    def loglens(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "loglens", "archive", *args, *common],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = loglens("ls").splitlines()
    assert len(listed) == len(moto.keys()) and all(" stored " in line for line in listed)
    assert loglens("cat", "--source", "ingest:web").splitlines() == lines
    report = json.loads(loglens("replay", "--output", "json"))
    assert report["lines"] == report["hits"] == 900 and report["status"] == {"200": 900}
