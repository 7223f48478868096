"""Helpers of the archive's tests: a sink over real folders, batches of lines, what an archive holds,
and a real ``moto_server`` (S3 over HTTP) on a free port."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from loglens.archive.backend import Backend
from loglens.archive.local import LocalBackend
from loglens.archive.publisher import Publisher
from loglens.archive.sink import ArchiveSink
from loglens.archive.spool import Spool
from loglens.clock import Clock, FrozenClock
from loglens.records import Batch, empty_records

#: Credentials moto accepts (any); set for boto3 in this process and the subprocesses it starts.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def batch(source: str, lines: list[str]) -> Batch:
    """A batch of ``lines`` (unparsed: the archive keeps the raw lines)."""
    return Batch(source, empty_records(), len(lines), raw=pl.Series("line", lines, dtype=pl.String))


def sink(
    state: Path,
    backend: Backend | None = None,
    clock: Clock | None = None,
    saves: Callable[[], int] | None = None,
    retention: float | None = None,
    **options: Any,
) -> ArchiveSink:
    """An archive spooling in ``state/archive-spool``, by default storing in ``state/archive``."""
    clock = clock or FrozenClock()
    backend = backend or LocalBackend(state / "archive")
    return ArchiveSink(
        Spool(state / "archive-spool"),
        Publisher(backend, clock, retention),
        clock=clock,
        saves=saves,
        **options,
    )


def stored_lines(backend: Backend) -> dict[str, list[str]]:
    """Every line the backend holds, per source, segments in name order."""
    out: dict[str, list[str]] = {}
    for segment in sorted(backend.segments(), key=lambda s: (s.name.start, s.name.uid)):
        with backend.open(segment.name) as raw:
            text = gzip.decompress(raw.read()).decode()
        out.setdefault(segment.name.source, []).extend(text.splitlines())
    return out


def spool_files(state: Path) -> list[Path]:
    """The segments in the spool."""
    folder = state / "archive-spool"
    return sorted(path for path in folder.rglob("*.log.gz*")) if folder.exists() else []


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """``probe()`` once it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last seen {value!r}")
        time.sleep(0.02)


def moto_available() -> None:
    """Skip (fail under CI=true) when moto's server is not installed."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        message = "moto[server] not installed: pip install -e '.[dev]' (make install does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class MotoServer:
    """``python -m moto.server`` on ``port``, as a subprocess, with a bucket made."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, bucket: str = "archive") -> MotoServer:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(self._up, f"moto_server on port {self.port}")
        self.client().create_bucket(Bucket=bucket)
        return self

    def _up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"moto_server exited: {self.log.read_text()}")
        try:
            return httpx.get(f"{self.url}/moto-api/", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def keys(self, bucket: str = "archive") -> list[str]:
        answer = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))
