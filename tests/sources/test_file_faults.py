"""Files that used to freeze the follower or count lines twice: FIFOs, too-long lines, cuts, bad offsets."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sources.tail_helpers import ROTATE_WAIT, Harness, append, line, write_lines


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


@pytest.fixture
def tail(logs: Path) -> Iterator[Harness]:
    harness = Harness(logs, "*.log", from_start=True)
    yield harness
    harness.close()


def test_a_file_swapped_for_a_fifo_before_it_is_opened_does_not_block_the_poll(
    tail: Harness, logs: Path
) -> None:
    write_lines(logs / "a.log", 0, 2)
    tail.poll()
    write_lines(logs / "a.log", 2, 2)
    write_lines(logs / "b.log", 0, 2)
    polling = tail.follower.poll(tail.clock.now())
    next(polling)  # a.log's new lines: b.log was found, as a regular file, and is opened next
    os.unlink(logs / "b.log")
    os.mkfifo(logs / "b.log")
    rest = threading.Thread(target=lambda: list(polling))
    rest.start()
    rest.join(timeout=30)
    blocked = rest.is_alive()
    if blocked:  # open a writer, which lets the reader's open return, so the thread ends
        os.close(os.open(logs / "b.log", os.O_WRONLY | os.O_NONBLOCK))
        rest.join()
    assert not blocked, "the poll blocked opening a FIFO"
    assert tail.source("b.log").errors == {"not_regular": 1}
    assert tail.source("b.log").healthy


def test_a_fifo_among_the_files_is_counted_once_and_never_opened(
    tail: Harness, logs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    os.mkfifo(logs / "p.log")
    write_lines(logs / "a.log", 0, 3)
    for _ in range(3):
        tail.poll()
        tail.clock.advance(60)
    assert tail.lines("a.log") == 3
    assert tail.source("p.log").errors == {"not_regular": 1}
    assert [r.getMessage() for r in caplog.records if "p.log" in r.getMessage()] == [
        f"{logs / 'p.log'}: not a regular file (FIFO); not followed"
    ]


def test_a_too_long_line_is_counted_once_when_it_ends_across_a_restart(tail: Harness, logs: Path) -> None:
    write_lines(logs / "a.log", 0, 1)
    tail.poll()
    append(logs / "a.log", "2024-05-01T12:00:00Z INFO " + "x" * 100_000)  # over max_line_bytes (64 KiB)
    tail.poll()
    counters = tail.totals.sources[str(logs / "a.log")]
    assert (counters.lines, dict(counters.parse_errors)) == (1, {})  # not counted before its newline
    tail.restart()
    append(logs / "a.log", "x" * 1000 + " end of the long line\n")
    write_lines(logs / "a.log", 1, 1)
    tail.poll()
    counters = tail.totals.sources[str(logs / "a.log")]
    assert (counters.lines, dict(counters.parse_errors)) == (3, {"too_long": 1})
    [saved] = tail.saved_files()
    assert saved.offset < os.path.getsize(logs / "a.log")  # the checkpoint before the newline: at its start
    tail.checkpoint()
    assert tail.saved_files()[0].offset == os.path.getsize(logs / "a.log")


def _offsets(lines: int) -> list[int]:
    """Where each of the first ``lines`` lines written by ``write_lines`` starts."""
    return [sum(len(line(n)) + 1 for n in range(k)) for k in range(lines + 1)]


@pytest.mark.parametrize("inside_a_line", [False, True])
def test_a_file_cut_shorter_keeps_what_is_left_counted(
    tail: Harness, logs: Path, inside_a_line: bool
) -> None:
    write_lines(logs / "a.log", 0, 50)
    tail.poll()
    size = _offsets(30)[-1] + (7 if inside_a_line else 0)
    assert size > 1024  # the fingerprint, the first KiB, survives: this is the same file, cut
    os.truncate(logs / "a.log", size)
    tail.poll()  # (lines appended after a cut and before loglens sees it would be taken as left over)
    write_lines(logs / "a.log", 50, 2)
    tail.poll()
    counters = tail.totals.sources[str(logs / "a.log")]
    assert (counters.lines, counters.parsed) == (52, 52)
    assert tail.source("a.log").truncations == 1


def test_a_file_cut_below_its_first_kib_is_read_again_from_the_start(tail: Harness, logs: Path) -> None:
    write_lines(logs / "a.log", 0, 50)
    tail.poll()
    os.truncate(logs / "a.log", _offsets(5)[-1])  # 5 lines left, under the fingerprint's 1 KiB
    write_lines(logs / "a.log", 50, 2)
    tail.poll()
    assert tail.lines("a.log") == 50 + 5 + 2
    assert tail.source("a.log").truncations == 1


def _set_offset(tail: Harness, offset: int) -> None:
    """Write ``offset`` as a.log's offset into the checkpoint, as a damaged or foreign one could hold."""
    tail.checkpoint()
    [saved] = tail.saved_files()
    snapshot = tail.store.load()
    assert snapshot is not None
    snapshot.sources["files"]["files"] = [replace(saved, offset=offset).to_row()]
    tail.store.save(snapshot)
    tail.kill()


@pytest.mark.parametrize("offset", [-5, 10**9])
def test_a_checkpoint_offset_that_cannot_be_is_recovered_from_with_one_warning(
    tail: Harness, logs: Path, offset: int, caplog: pytest.LogCaptureFixture
) -> None:
    write_lines(logs / "a.log", 0, 50)
    tail.poll()
    _set_offset(tail, offset)
    for n in range(4):
        tail.poll()  # the first one reads on from the end: nothing is counted twice
        tail.clock.advance(1)
        write_lines(logs / "a.log", 50 + n, 1)
    tail.poll()
    assert tail.lines("a.log") == 50 + 4
    assert tail.source("a.log").errors == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "a.log" in warnings[0], warnings


def test_files_beyond_the_descriptor_budget_wait_counted_once_and_are_opened_when_one_frees_up(
    logs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(5):
        write_lines(logs / f"f{n}.log", 0, 3)
    tail = Harness(logs, "*.log", from_start=True, max_open_files=3)
    for _ in range(3):
        tail.poll()
        tail.clock.advance(1)
    assert len(tail.follower.files) == 3
    assert [tail.lines(f"f{n}.log") for n in range(5)] == [3, 3, 3, 0, 0]
    waiting = [tail.source(f"f{n}.log") for n in (3, 4)]
    assert [(s.errors, s.healthy, s.last_error) for s in waiting] == [
        ({"too_many_open_files": 1}, False, "not followed: too many open files")
    ] * 2
    os.unlink(logs / "f0.log")  # drained until idle for ROTATE_WAIT, then closed: f3.log takes its descriptor
    tail.poll()
    tail.clock.advance(ROTATE_WAIT)
    tail.poll()
    assert [tail.lines(f"f{n}.log") for n in range(5)] == [3, 3, 3, 3, 0]
    assert tail.source("f3.log").healthy and not tail.source("f4.log").healthy
    os.unlink(logs / "f1.log")
    tail.poll()
    tail.clock.advance(ROTATE_WAIT)
    tail.poll()
    assert tail.lines("f4.log") == 3
    assert tail.source("f4.log").errors == {"too_many_open_files": 1}
    messages = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(messages) == 2 and messages[0].startswith("2 file(s) not followed"), messages
    assert messages[1] == "every file found is followed again"
    tail.close()
