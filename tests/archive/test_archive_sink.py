"""The archive sink over real folders: every line kept once, segments rolled by size and age, a
checkpoint's state cut back to after a crash, closed segments stored only once a checkpoint knows them."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from archive.archive_helpers import batch, sink, spool_files, stored_lines, wait_until
from loglens.archive.local import LocalBackend
from loglens.clock import FrozenClock


def _lines(source: str, first: int, count: int) -> list[str]:
    return [f"{source} line {n} " + "x" * (n % 97) for n in range(first, first + count)]


class Saves:
    """The runtime's count of saved checkpoints, stepped by the test."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        return self.count


def test_every_line_of_every_accepted_batch_is_kept_in_order_per_source(tmp_path: Path) -> None:
    archive = sink(tmp_path, accepts=lambda label: label != "skipped")
    sent: dict[str, list[str]] = {"a": [], "b": []}
    for n in range(40):
        source = "ab"[n % 2]
        lines = [*_lines(source, n * 50, 50), "", 'not a log line \t with tabs, "quotes" and commas']
        sent[source] += lines
        archive.write(batch(source, lines))
        archive.write(batch("skipped", ["never kept"]))
    archive.state()
    archive.close()
    assert stored_lines(LocalBackend(tmp_path / "archive")) == sent
    assert archive.counts.lines == sum(len(lines) for lines in sent.values())
    assert spool_files(tmp_path) == []


def test_segments_roll_by_size_and_every_one_is_a_valid_gzip_file(tmp_path: Path) -> None:
    saves = Saves()
    archive = sink(tmp_path, saves=saves, max_bytes=4096)
    for n in range(30):
        archive.write(batch("a", _lines("a", n * 100, 100)))
        archive.state()
        saves.count += 1
    archive.state()
    saves.count += 1
    archive.close()
    backend = LocalBackend(tmp_path / "archive")
    segments = list(backend.segments())
    assert len(segments) > 3 and archive.counts.segments == len(segments)
    biggest_member = max(len(gzip.compress("\n".join(_lines("a", n, 100)).encode())) for n in (0, 2900))
    assert all(segment.size < 4096 + 2 * biggest_member for segment in segments)
    for segment in segments:
        gzip.decompress((tmp_path / "archive" / segment.name.key).read_bytes())
    assert stored_lines(backend) == {"a": _lines("a", 0, 3000)}


def test_segments_roll_by_age_and_are_named_by_their_first_arrival(tmp_path: Path) -> None:
    clock = FrozenClock(1_796_111_803.0)  # 2026-12-01T07:56:43Z
    saves = Saves()
    archive = sink(tmp_path, clock=clock, saves=saves, max_seconds=60)
    archive.write(batch("web", ["first"]))
    archive.state()
    saves.count += 1
    clock.advance(59)
    archive.write(batch("web", ["second"]))
    archive.state()
    saves.count += 1
    assert archive.report().open_segments == 1
    clock.advance(1)
    archive.state()  # 60 s after the first line: closed, though idle
    saves.count += 1
    assert archive.report().open_segments == 0
    clock.advance(3600)
    archive.write(batch("web", ["third"]))
    archive.state()
    saves.count += 1
    archive.close()
    backend = LocalBackend(tmp_path / "archive")
    keys = sorted(segment.name.key for segment in backend.segments())
    assert [key.split("-")[0] for key in keys] == [
        "web/2026/12/01/07/20261201T075643Z",
        "web/2026/12/01/08/20261201T085743Z",
    ]
    assert stored_lines(backend) == {"web": ["first", "second", "third"]}


def test_a_restart_cuts_the_open_segment_back_to_the_checkpoint(tmp_path: Path) -> None:
    saves = Saves()
    first = sink(tmp_path, saves=saves)
    first.write(batch("a", _lines("a", 0, 100)))
    checkpoint = first.state()
    saves.count += 1
    first.write(batch("a", _lines("a", 100, 100)))
    first.state()  # its save fails: the checkpoint stays at 100 lines
    first.write(batch("a", _lines("a", 200, 100)))
    first.flush()  # written, not synced: then kill -9
    first.publisher.close(0)

    second = sink(tmp_path, saves=Saves())
    second.restore(checkpoint)
    (path,) = spool_files(tmp_path)
    assert path.stat().st_size == checkpoint["open"]["a"]["bytes"]
    second.write(batch("a", _lines("a", 100, 200)))  # the source reads again from its checkpoint
    second.state()
    second.saves.count += 1  # type: ignore[union-attr]
    second.close()
    assert stored_lines(LocalBackend(tmp_path / "archive")) == {"a": _lines("a", 0, 300)}


def test_a_segment_is_stored_only_once_a_checkpoint_that_knows_it_closed_is_saved(tmp_path: Path) -> None:
    saves = Saves()
    archive = sink(tmp_path, saves=saves, max_bytes=1024)
    backend = LocalBackend(tmp_path / "archive")
    archive.write(batch("a", _lines("a", 0, 5000)))
    archive.state()  # closes a segment: held until this checkpoint is saved
    archive.state()
    assert list(backend.segments()) == [] and archive.report().pending.segments >= 1
    saves.count += 1
    archive.state()
    wait_until(lambda: archive.report().pending.segments == 0, "the closed segment stored")
    assert len(list(backend.segments())) == 1
    archive.close()


def test_a_graceful_stop_after_an_unsaved_checkpoint_leaves_the_open_segment_to_the_restart(
    tmp_path: Path,
) -> None:
    saves = Saves()
    first = sink(tmp_path, saves=saves)
    first.write(batch("a", ["one"]))
    checkpoint = first.state()
    saves.count += 1
    first.write(batch("a", ["two"]))
    first.state()  # not saved
    first.close()
    assert list(LocalBackend(tmp_path / "archive").segments()) == []
    second = sink(tmp_path, saves=Saves())
    second.restore(checkpoint)
    second.write(batch("a", ["two"]))
    second.state()
    second.saves.count += 1  # type: ignore[union-attr]
    second.close()
    assert stored_lines(LocalBackend(tmp_path / "archive")) == {"a": ["one", "two"]}


def test_a_write_that_fails_holds_the_checkpoint_back_until_it_is_written(tmp_path: Path) -> None:
    saves = Saves()
    archive = sink(tmp_path, saves=saves)
    blocker = tmp_path / "archive-spool" / "a"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the source's folder goes")
    archive.write(batch("a", ["one", "two"]))  # taken (buffered)
    with pytest.raises(OSError):
        archive.state()  # cannot be written: the checkpoint must not be saved
    with pytest.raises(OSError):
        archive.write(batch("a", ["three"]))  # refused: the runtime keeps it for a retry
    blocker.unlink()
    archive.write(batch("a", ["three"]))
    archive.state()
    saves.count += 1
    archive.state()
    archive.close()
    assert stored_lines(LocalBackend(tmp_path / "archive")) == {"a": ["one", "two", "three"]}


def test_a_start_without_checkpoint_drops_segments_no_checkpoint_knew(tmp_path: Path) -> None:
    first = sink(tmp_path, saves=Saves())
    first.write(batch("a", ["read before the first checkpoint was saved"]))
    first.state()
    first.publisher.close(0)  # kill -9 before the save
    second = sink(tmp_path, saves=Saves())
    second.state()
    assert spool_files(tmp_path) == []
    second.close()


def test_a_start_after_the_checkpoint_was_set_aside_stores_what_the_spool_holds(tmp_path: Path) -> None:
    saves = Saves()
    first = sink(tmp_path, saves=saves)
    first.write(batch("a", ["kept"]))
    first.state()
    saves.count += 1
    first.state()  # sees the save
    first.publisher.close(0)
    second = sink(tmp_path, saves=Saves())  # --reset-state: no checkpoint to restore
    second.state()
    second.close()
    assert stored_lines(LocalBackend(tmp_path / "archive")) == {"a": ["kept"]}


# -- any sequence of batches, checkpoints (saved or not), clock steps and crashes ------------------

SOURCES = ("api", "web")
OPS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(SOURCES), st.integers(1, 120)),
    st.tuples(st.just("checkpoint"), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([1.0, 30.0, 61.0])),
    st.tuples(st.just("crash")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(OPS, max_size=30), max_bytes=st.sampled_from([1024, 3000, 1 << 20]))
@example(
    ops=[("write", "api", 50), ("checkpoint", True), ("write", "api", 50), ("crash",)], max_bytes=1 << 20
)
@example(
    ops=[("write", "api", 120), ("checkpoint", True), ("write", "api", 120), ("checkpoint", False),
         ("crash",), ("write", "web", 3)],
    max_bytes=1024,
)  # fmt: skip
@example(
    ops=[("write", "api", 120), ("checkpoint", True), ("write", "api", 120), ("checkpoint", False),
         ("checkpoint", False), ("crash",)],
    max_bytes=1024,
)  # fmt: skip
def test_any_batches_checkpoints_and_crashes_archive_the_input_exactly_once(
    ops: list[tuple[object, ...]], max_bytes: int
) -> None:
    state = Path(tempfile.mkdtemp(prefix="loglens-archive-"))
    try:
        clock = FrozenClock(1_796_111_803.0)
        saves = Saves()
        archive = sink(state, clock=clock, saves=saves, max_bytes=max_bytes, max_seconds=60)
        read = dict.fromkeys(SOURCES, 0)  # the sources' positions
        committed: tuple[dict[str, int], dict[str, object]] | None = None
        for op in ops:
            if op[0] == "write":
                source, count = str(op[1]), int(op[2])  # type: ignore[call-overload]
                archive.write(batch(source, _lines(source, read[source], count)))
                read[source] += count
            elif op[0] == "checkpoint":
                taken = archive.state()
                if op[1]:
                    saves.count += 1
                    committed = (dict(read), taken)
            elif op[0] == "advance":
                clock.advance(float(op[1]))  # type: ignore[arg-type]
            else:  # kill -9 once all it handed over is stored; a new process restores the saved checkpoint
                archive.flush()
                archive.publisher.close(30)
                saves = Saves()
                archive = sink(state, clock=clock, saves=saves, max_bytes=max_bytes, max_seconds=60)
                if committed is not None:
                    archive.restore(committed[1])  # type: ignore[arg-type]
                    read = dict(committed[0])
                else:
                    read = dict.fromkeys(SOURCES, 0)
        archive.state()
        saves.count += 1
        archive.close()
        expected = {source: _lines(source, 0, read[source]) for source in SOURCES if read[source]}
        assert stored_lines(LocalBackend(state / "archive")) == expected
        assert spool_files(state) == []
    finally:
        shutil.rmtree(state)
