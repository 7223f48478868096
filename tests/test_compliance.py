"""Every Source and every Sink, run by the runtime, counts what its kind must count.

Sources: lines read, errors by reason (with an unhealthy status while failing), and lag. Sinks: batches
written and failed, and a failing sink never stops ingestion. A new source or sink is one new entry in
``SOURCES`` or ``SINKS``. Each fault is a real one: an engine-rejected pattern, a descriptor that is a
folder, a cut gzip file, a sink written after it was closed.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from jetstream.fleet import NatsServer
from loglens.archive.local import LocalBackend
from loglens.archive.publisher import Publisher
from loglens.archive.sink import ArchiveSink
from loglens.archive.spool import Spool
from loglens.clock import FrozenClock
from loglens.config import load_settings
from loglens.contracts import Sink, Source
from loglens.jetstream.config import NatsConfig
from loglens.runtime import Runtime
from loglens.sinks.nats_publisher import NatsPublisher
from loglens.sinks.panels import PanelSink
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_tail import FileFollower
from loglens.sources.replay_reader import ReplayReader
from loglens.sources.stdin import StreamSource
from support import REAL, require_tool

LINES = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines(keepends=True)[:500]
GOOD = LINES[:199]
TEXT = "".join([*GOOD, "not a log line\n"])  # 200 lines, one bad


@dataclass(frozen=True)
class Case:
    """How to make one kind of source: with 200 lines to read, with bytes waiting, and failing.

    ``lag_polls``: polls after which the lagging source has read something and still lags.
    """

    name: str
    reading: Callable[[Path], Source]
    lagging: Callable[[Path], Source]
    lag_polls: int
    failing: Callable[[Path], Source]


def _file(tmp: Path, text: str, budget: int = 16 * 1024 * 1024, pattern: str | None = None) -> Source:
    (tmp / "a.log").write_text(text)
    spec = SourceSpec(str(tmp / "a.log"), "auto", pattern)
    return FileFollower([spec], clock=FrozenClock(), from_start=True, read_budget=budget)


def _stream(text: bytes) -> Source:
    read, write = os.pipe()
    os.write(write, text)
    os.close(write)
    return StreamSource(read)


def _stream_open(text: bytes) -> Source:
    """A stream whose writer is still open: what was written is read, the rest may come."""
    read, write = os.pipe()
    os.write(write, text)
    _open_writers.append(write)
    return StreamSource(read)


_open_writers: list[int] = []


def _folder_descriptor(tmp: Path) -> Source:
    return StreamSource(os.open(tmp, os.O_RDONLY))  # reading a folder fails with EISDIR


def _replay(tmp: Path, data: bytes, name: str = "a.log") -> Source:
    (tmp / name).write_bytes(data)
    return ReplayReader([str(tmp / name)])


def _cut_gzip(tmp: Path) -> Source:
    whole = gzip.compress(TEXT.encode() * 50)
    return _replay(tmp, whole[: len(whole) // 2], "a.log.gz")


SOURCES = [
    Case(
        "file",
        lambda tmp: _file(tmp, TEXT),
        lambda tmp: _file(tmp, TEXT * 20, budget=4096),  # one poll reads 4 KiB of 900
        1,
        lambda tmp: _file(tmp, TEXT, pattern=r"(?=\S)(?P<client>\S+) .*"),  # polars' regex refuses it
    ),
    Case(
        "stdin",
        lambda tmp: _stream(TEXT.encode()),
        lambda tmp: _stream_open(GOOD[0].encode().rstrip(b"\n")),  # a partial line, held until it ends
        1,
        _folder_descriptor,
    ),
    Case(
        "replay",
        lambda tmp: _replay(tmp, TEXT.encode()),
        lambda tmp: _replay(tmp, TEXT.encode()),  # lags by its whole input until it is read
        0,
        _cut_gzip,
    ),
]


def _runtime(sources: list[Source], sinks: Sequence[Sink] = ()) -> Runtime:
    return Runtime(load_settings(), sources, sinks, clock=FrozenClock(), checkpoint=False)


def _poll(runtime: Runtime) -> bool:
    """One poll, once every stream source's reader has read what is there."""
    for runner in runtime.sources:
        if isinstance(runner.source, StreamSource):
            runner.source.wait_readable(5.0)
    return runtime.poll_once()


def _read_all(runtime: Runtime) -> None:
    """Poll until every source has read all it has (bounded)."""
    for _ in range(100):
        more = _poll(runtime)
        if not more and all(
            r.source.exhausted or isinstance(r.source, FileFollower) for r in runtime.sources
        ):
            return
    raise AssertionError("the sources never ran dry")


@pytest.fixture(params=SOURCES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


def test_a_source_counts_the_lines_it_reads(case: Case, tmp_path: Path) -> None:
    runtime = _runtime([case.reading(tmp_path)])
    _read_all(runtime)
    statuses = runtime.query.sources()
    assert sum(s.lines for s in statuses) == 200
    assert sum(c.lines for c in runtime.totals.sources.values()) == 200
    assert sum(sum(c.parse_errors.values()) for c in runtime.totals.sources.values()) == 1
    assert all(s.healthy and not s.errors for s in statuses)
    runtime.close()


def test_a_source_reports_its_lag(case: Case, tmp_path: Path) -> None:
    runtime = _runtime([case.lagging(tmp_path)])
    for _ in range(case.lag_polls):
        _poll(runtime)
    assert sum(s.lag_bytes for s in runtime.query.sources()) > 0
    runtime.close()


def test_a_failing_source_counts_its_errors_and_the_others_go_on(case: Case, tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    bad = case.failing(tmp_path / "bad")
    good = FileFollower([SourceSpec(str(tmp_path / "good" / "g.log"))], clock=FrozenClock(), from_start=True)
    (tmp_path / "good" / "g.log").write_text(TEXT)
    runtime = _runtime([bad, good])
    for _ in range(3):
        _poll(runtime)
    statuses = runtime.query.sources()
    failing = [s for s in statuses if s.errors]
    assert failing and sum(sum(s.errors.values()) for s in failing) >= 1
    assert not all(s.healthy for s in failing)
    assert runtime.totals.sources[str(tmp_path / "good" / "g.log")].lines == 200
    runtime.close()


def _archive(tmp: Path) -> Sink:
    """The archive of every source, in ``tmp``."""
    return ArchiveSink(Spool(tmp / "archive-spool"), Publisher(LocalBackend(tmp / "archive"), FrozenClock()))


#: Servers a sink of the test talks to (a real nats-server), stopped after it.
_servers: list[NatsServer] = []


def _nats(tmp: Path) -> Sink:
    """A NATS publisher to a real ``nats-server -js`` of the test's own."""
    server = NatsServer(require_tool("nats-server", "nats-server"), tmp)
    server.start()
    _servers.append(server)
    return NatsPublisher(NatsConfig(publish=server.url, host="compliance"))


SINKS: dict[str, Callable[[Path], Sink]] = {
    "panels": lambda tmp: PanelSink(),
    "archive": _archive,
    "nats": _nats,
}


@pytest.fixture(params=sorted(SINKS))
def sink(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sink]:
    (tmp_path / "sink").mkdir()
    made = SINKS[request.param](tmp_path / "sink")
    yield made
    made.close()
    while _servers:
        _servers.pop().stop()


def test_a_sink_counts_the_batches_it_takes(sink: Sink, tmp_path: Path) -> None:
    runtime = _runtime([_file(tmp_path, TEXT)], [sink])
    runtime.poll_once()
    runtime.sinks[0].call("flush")
    (status,) = runtime.query.sinks()
    assert status.written >= 1 and status.failed == 0 and status.healthy


def test_a_failing_sink_is_counted_and_never_stops_ingestion(sink: Sink, tmp_path: Path) -> None:
    runtime = _runtime([_file(tmp_path, TEXT)], [sink])
    sink.close()  # a sink written after it was closed refuses every batch
    runtime.poll_once()
    (status,) = runtime.query.sinks()
    assert status.written == 0 and status.failed >= 1 and not status.healthy
    assert status.queued >= 1
    assert runtime.totals.sources[str(tmp_path / "a.log")].lines == 200
