"""Outputs on real files and a real HTTP server: append, rotation in both modes, streams, batched POSTs."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from click.testing import CliRunner

from generate.generate_helpers import START, cli, make, read_lines
from loglens.cli import main
from loglens.errors import LoglensError
from loglens.generate.outputs import HttpOutput, RotatingFile

ARGS = ("--start", START, "--seed", "11")


def _rotation_order(path: Path) -> list[Path]:
    """Oldest backup first, the live file last."""
    backups = sorted(path.parent.glob(path.name + ".*"), key=lambda p: int(p.suffix[1:]), reverse=True)
    return [*backups, path]


def test_file_output_appends(tmp_path: Path) -> None:
    out = tmp_path / "logs" / "access.log"
    cli("generate", *ARGS, "--count", "300", "--output", str(out))
    cli("generate", *ARGS, "--count", "200", "--output", str(out))
    expected = make(300, 11)
    assert read_lines(out) == expected + expected[:200]


@pytest.mark.parametrize("mode", ["rename", "copytruncate"])
def test_rotation_keeps_exactly_the_generated_lines_in_order(tmp_path: Path, mode: str) -> None:
    out = tmp_path / "access.log"
    out.touch()
    inode = out.stat().st_ino
    cli(
        "generate",
        *ARGS,
        "--count",
        "5000",
        "--output",
        str(out),
        "--rotate-bytes",
        "64k",
        "--rotate-mode",
        mode,
        "--rotate-keep",
        "0",
    )
    files = _rotation_order(out)
    assert len(files) > 10
    assert [line for f in files for line in read_lines(f)] == make(5000, 11)
    assert all(f.stat().st_size <= 65536 for f in files)
    assert all(f.stat().st_size > 60000 for f in files[:-1])  # each rotated file is full
    assert (out.stat().st_ino == inode) == (mode == "copytruncate")


def test_rotation_drops_the_oldest_beyond_keep(tmp_path: Path) -> None:
    out = tmp_path / "app.log"
    cli(
        "generate",
        *ARGS,
        "--format",
        "level",
        "--count",
        "4000",
        "--output",
        str(out),
        "--rotate-bytes",
        "20000",
        "--rotate-keep",
        "3",
    )
    files = _rotation_order(out)
    assert [f.name for f in files] == ["app.log.3", "app.log.2", "app.log.1", "app.log"]
    kept = [line for f in files for line in read_lines(f)]
    assert kept == make(4000, 11, fmt="level", app=True)[-len(kept) :]


def test_a_line_longer_than_the_limit_gets_a_file_of_its_own(tmp_path: Path) -> None:
    rotating = RotatingFile(tmp_path / "x.log", rotate_bytes=10, keep=0)
    rotating.write(["short", "this line is longer than ten bytes", "a", "b"])
    rotating.close()
    assert [read_lines(f) for f in _rotation_order(tmp_path / "x.log")] == [
        ["short"],
        ["this line is longer than ten bytes"],
        ["a", "b"],
    ]


def test_streams_split_lines_round_robin_over_files(tmp_path: Path) -> None:
    folder = tmp_path / "streams"
    cli("generate", *ARGS, "--count", "1000", "--output", str(folder), "--streams", "3")
    streams = [read_lines(folder / f"stream-{k}.log") for k in range(3)]
    expected = make(1000, 11)
    assert [len(s) for s in streams] == [334, 333, 333]
    assert [streams[i % 3][i // 3] for i in range(1000)] == expected


def test_an_existing_folder_gets_one_stream_file(tmp_path: Path) -> None:
    cli("generate", *ARGS, "--count", "10", "--output", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["stream-0.log"]
    assert read_lines(tmp_path / "stream-0.log") == make(10, 11)


def test_streams_rotate_each_file(tmp_path: Path) -> None:
    cli(
        "generate",
        *ARGS,
        "--count",
        "3000",
        "--output",
        str(tmp_path),
        "--streams",
        "2",
        "--rotate-bytes",
        "50000",
        "--rotate-keep",
        "0",
        "--rotate-mode",
        "copytruncate",
    )
    for k in range(2):
        files = _rotation_order(tmp_path / f"stream-{k}.log")
        assert len(files) > 3
        assert [line for f in files for line in read_lines(f)] == make(3000, 11)[k::2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--streams", "2"), "need a file, folder or URL output"),
        (("--rotate-bytes", "10k", "--output", "http://127.0.0.1:9/x"), "needs a file or folder"),
        (("--rotate-bytes", "0", "--output", "x.log"), "not a size > 0"),
    ],
)
def test_options_that_do_not_fit_the_output_are_refused(args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(main, ["generate", "--count", "1", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_stdout_output_and_a_reader_that_goes_away(tmp_path: Path) -> None:
    result = cli("generate", *ARGS, "--count", "50")
    assert result.stdout.splitlines() == make(50, 11)
    head = subprocess.run(
        f"{sys.executable} -m loglens generate --start {START} --seed 11 --count 2000000 | head -n 3",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert head.stdout.splitlines() == make(3, 11)
    assert "Traceback" not in head.stderr


@dataclass
class Received:
    """What the test server got."""

    bodies: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[tuple[str, Received]]:
    """A real HTTP server on a free loopback port, recording POST bodies."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.bodies.append(orjson.loads(body))
            received.sources += parse_qs(urlsplit(self.path).query)["source"]
            received.headers.append(dict(self.headers))
            self.send_response(received.statuses.pop(0) if received.statuses else 202)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api/logs", received
    httpd.shutdown()
    httpd.server_close()


def test_http_output_posts_batches_of_lines(server: tuple[str, Received]) -> None:
    url, received = server
    cli(
        "generate",
        *ARGS,
        "--count",
        "2500",
        "--output",
        url,
        "--batch-size",
        "1000",
        "--source",
        "web-1",
        "--token",
        "s3cret",
    )
    assert [len(b) for b in received.bodies] == [1000, 1000, 500]
    assert set(received.sources) == {"web-1"}
    assert [line for b in received.bodies for line in b] == make(2500, 11)
    assert {h["authorization"] for h in received.headers} == {"Bearer s3cret"}
    assert {h["content-type"] for h in received.headers} == {"application/json"}


def test_http_output_with_streams_sends_one_source_per_stream(server: tuple[str, Received]) -> None:
    url, received = server
    cli("generate", *ARGS, "--count", "100", "--output", url, "--streams", "2", "--format", "level")
    lines = make(100, 11, fmt="level", app=True)
    by_source: dict[str, list[str]] = {}
    for source, body in zip(received.sources, received.bodies, strict=True):
        by_source.setdefault(source, []).extend(body)
    assert by_source == {"generate-0": lines[0::2], "generate-1": lines[1::2]}


def test_http_errors_end_the_run_with_one_clear_line(server: tuple[str, Received]) -> None:
    url, received = server
    received.statuses = [400]
    result = CliRunner().invoke(main, ["generate", *ARGS, "--count", "10", "--output", url])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"loglens: output {url}: HTTP 400")
    assert len(received.bodies) == 1  # a client error is not retried


def test_server_errors_are_retried_with_backoff(server: tuple[str, Received]) -> None:
    url, received = server
    received.statuses = [503, 503]
    sleeps: list[float] = []
    output = HttpOutput(url, sleep=sleeps.append)
    output.write(0, ["a", "b"])
    output.close()
    assert sleeps == [1.0, 2.0]
    assert received.bodies == [["a", "b"]] * 3


def test_unreachable_http_output_is_reported_after_retries() -> None:
    sleeps: list[float] = []
    output = HttpOutput("http://127.0.0.1:9/api/logs", sleep=sleeps.append)
    output.write(0, ["a"])
    with pytest.raises(LoglensError, match="cannot reach it"):
        output.close()
    assert len(sleeps) == 2


def test_unwritable_output_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("not a folder")
    result = CliRunner().invoke(
        main, ["generate", "--count", "1", "--output", str(tmp_path / "plain-file" / "x.log")]
    )
    assert result.exit_code == 1
    assert result.output.startswith("loglens: cannot write ")
    assert "Traceback" not in result.output
