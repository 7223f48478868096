"""File following on real files: discovery, partial lines, each rotation mode, truncation, deletion."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Iterator
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
    harness = Harness(logs, "*.log")
    yield harness
    harness.close()


def test_files_present_at_first_start_are_read_from_their_end(logs: Path) -> None:
    write_lines(logs / "a.log", 0, 10)
    harness = Harness(logs, "*.log")
    harness.poll()
    assert harness.lines("a.log") == 0
    write_lines(logs / "a.log", 10, 3)
    harness.poll()
    assert harness.lines("a.log") == 3
    harness.close()


def test_first_start_from_end_does_not_cut_a_line_being_written(logs: Path) -> None:
    write_lines(logs / "a.log", 0, 5)
    append(logs / "a.log", "2024-05-01T12:00:00Z INFO half of a li")
    harness = Harness(logs, "*.log")
    harness.poll()
    append(logs / "a.log", "ne\n")
    harness.poll()
    counters = harness.totals.sources[str(logs / "a.log")]
    assert (counters.lines, counters.parsed) == (1, 1)
    harness.close()


def test_from_start_reads_existing_files_whole(logs: Path) -> None:
    write_lines(logs / "a.log", 0, 10)
    harness = Harness(logs, "*.log", from_start=True)
    harness.poll()
    assert harness.lines("a.log") == 10
    harness.close()


def test_new_file_is_found_by_the_next_poll_and_read_from_its_start(tail: Harness, logs: Path) -> None:
    tail.poll()
    write_lines(logs / "b.log", 0, 7)
    write_lines(logs / "b.txt", 0, 7)  # not matched by the glob
    tail.poll()
    assert tail.lines("b.log") == 7
    assert tail.lines("b.txt") == 0


def test_folder_source_follows_every_file_in_it(logs: Path) -> None:
    harness = Harness(logs, str(logs))
    harness.poll()
    write_lines(logs / "one", 0, 2)
    write_lines(logs / "two.txt", 0, 3)
    harness.poll()
    assert (harness.lines("one"), harness.lines("two.txt")) == (2, 3)
    harness.close()


def test_partial_line_is_held_until_its_newline(tail: Harness, logs: Path) -> None:
    tail.poll()
    append(logs / "a.log", line(1) + "\n" + line(2)[:20])
    tail.poll()
    assert tail.lines("a.log") == 1
    assert tail.source("a.log").files[0].offset == len(line(1)) + 1
    append(logs / "a.log", line(2)[20:] + "\n")
    tail.poll()
    counters = tail.totals.sources[str(logs / "a.log")]
    assert (counters.lines, counters.parsed) == (2, 2)


def test_rename_rotation_drains_the_old_file_then_reads_the_new_one(tail: Harness, logs: Path) -> None:
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    write_lines(logs / "a.log", 5, 3)  # written before the rename, not read yet
    os.rename(logs / "a.log", logs / "a.log.1")
    write_lines(logs / "a.log", 100, 4)  # the new file
    tail.poll()
    assert tail.lines("a.log") == 12
    assert [f.state for f in tail.source("a.log").files] == ["draining", "following"]
    write_lines(logs / "a.log.1", 8, 2)  # the writer had not reopened yet
    tail.clock.advance(ROTATE_WAIT - 1)
    tail.poll()
    assert tail.lines("a.log") == 14
    tail.clock.advance(ROTATE_WAIT)
    tail.poll()
    view = tail.source("a.log")
    assert [f.state for f in view.files] == ["following"]
    assert (view.rotations, view.truncations) == (1, 0)


def test_copytruncate_reads_from_zero_and_recovers_the_tail_from_the_copy(tail: Harness, logs: Path) -> None:
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    write_lines(logs / "a.log", 5, 3)  # unread when the copy is made
    shutil.copyfile(logs / "a.log", logs / "a.log.1")
    os.truncate(logs / "a.log", 0)
    write_lines(logs / "a.log", 100, 2)
    tail.poll()
    assert tail.lines("a.log") == 10
    view = tail.source("a.log")
    assert (view.rotations, view.truncations) == (0, 1)


def test_copytruncate_with_a_copy_in_the_followed_folder_counts_nothing_twice(logs: Path) -> None:
    harness = Harness(logs, str(logs))
    harness.poll()
    write_lines(logs / "a.log", 0, 5)
    harness.poll()
    shutil.copyfile(logs / "a.log", logs / "a.log.1")
    harness.poll()  # the copy is seen before the truncation
    write_lines(logs / "a.log", 5, 3)
    os.truncate(logs / "a.log", 0)
    write_lines(logs / "a.log", 100, 2)
    harness.poll()
    assert harness.lines("a.log") == 7  # the 3 lines truncated before being read are gone: not in the copy
    assert harness.lines("a.log.1") == 0
    harness.close()


def test_truncation_reads_the_file_again_from_zero(tail: Harness, logs: Path) -> None:
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    os.truncate(logs / "a.log", 0)
    tail.poll()
    write_lines(logs / "a.log", 5, 2)
    tail.poll()
    assert tail.lines("a.log") == 7
    assert tail.source("a.log").truncations == 1


def test_rewrite_longer_than_the_old_content_is_seen_by_its_fingerprint(tail: Harness, logs: Path) -> None:
    tail.poll()
    write_lines(logs / "a.log", 0, 3)
    tail.poll()
    with open(logs / "a.log", "w", encoding="utf-8") as handle:  # truncate and rewrite between two polls
        handle.write("".join(line(n, "new") + "\n" for n in range(10)))
    tail.poll()
    assert tail.lines("a.log") == 13
    assert tail.source("a.log").truncations == 1


def test_symlink_switch_follows_the_new_target_and_drains_the_old(logs: Path, tmp_path: Path) -> None:
    targets = tmp_path / "targets"
    targets.mkdir()
    write_lines(targets / "one", 0, 4)
    os.symlink(targets / "one", logs / "current.log")
    harness = Harness(logs, "*.log")
    harness.poll()
    write_lines(targets / "one", 4, 2)
    harness.poll()
    assert harness.lines("current.log") == 2
    write_lines(targets / "two", 0, 3)
    os.symlink(targets / "two", logs / "tmp-link")
    os.replace(logs / "tmp-link", logs / "current.log")
    write_lines(targets / "one", 6, 1)  # late line in the old target
    harness.poll()
    assert harness.lines("current.log") == 6
    assert harness.source("current.log").rotations == 1
    harness.clock.advance(ROTATE_WAIT)
    harness.poll()
    os.replace(logs / "current.log", logs / "tmp-link")  # switch back to a target already read
    os.symlink(targets / "one", logs / "current.log")
    write_lines(targets / "one", 7, 1)
    harness.poll()
    assert harness.lines("current.log") == 7
    harness.close()


def test_deleted_file_is_drained_then_forgotten(tail: Harness, logs: Path) -> None:
    tail.poll()
    write_lines(logs / "a.log", 0, 3)
    tail.poll()
    with open(logs / "a.log", "a", encoding="utf-8") as writer:
        os.unlink(logs / "a.log")
        writer.write(line(3) + "\n")  # a process still writing to the deleted file
        writer.flush()
        tail.poll()
        assert tail.lines("a.log") == 4
        tail.clock.advance(ROTATE_WAIT)
        tail.poll()
    assert tail.source("a.log").files == []
    assert tail.follower.files == {}


def test_compressed_rotated_files_are_not_read(logs: Path) -> None:
    harness = Harness(logs, str(logs))
    harness.poll()
    with gzip.open(logs / "a.log.2.gz", "wt") as handle:
        handle.write(line(0) + "\n")
    (logs / "b.log.zst").write_bytes(b"\x28\xb5\x2f\xfd")
    write_lines(logs / "a.log", 0, 1)
    harness.poll()
    assert sorted(v.name for v in harness.follower.status()) == [str(logs / "a.log")]
    harness.close()


def test_rotated_file_in_a_followed_folder_keeps_its_label_and_offset(logs: Path) -> None:
    harness = Harness(logs, str(logs))
    harness.poll()
    write_lines(logs / "a.log", 0, 3)
    harness.poll()
    os.rename(logs / "a.log", logs / "a.log.1")
    write_lines(logs / "a.log.1", 3, 1)
    write_lines(logs / "a.log", 10, 2)
    harness.poll()
    harness.clock.advance(ROTATE_WAIT * 2)
    harness.poll()
    assert harness.lines("a.log") == 6
    assert harness.lines("a.log.1") == 0
    harness.close()


def test_many_files_at_once(tail: Harness, logs: Path) -> None:
    tail.poll()
    for n in range(200):
        write_lines(logs / f"f{n:03d}.log", 0, n % 7)
    tail.poll()
    assert sum(c.lines for c in tail.totals.sources.values()) == sum(n % 7 for n in range(200))


def test_a_poll_stopped_early_loses_no_line_split_ahead(logs: Path) -> None:
    """Chunks are split ahead of the batch handed out; when the consumer stops (an error, a stop), the
    follower must hold exactly the bytes after the lines it handed out, so the next poll neither skips
    nor glues lines."""
    harness = Harness(logs, "*.log", from_start=True)
    count = 330_000  # 14.5 MiB: four 4 MiB chunks in one poll, the third ending inside a line
    append(logs / "a.log", "".join(f"{n:07d} {line(n)}\n" for n in range(count)))  # each line starts apart
    batches = harness.follower.poll(harness.clock.now())
    taken = next(batches).lines
    taken += next(batches).lines  # by the second batch, the third chunk has been split
    batches.close()
    (tracked,) = harness.follower.files.values()
    data = (logs / "a.log").read_bytes()
    assert data[tracked.offset - 1 : tracked.offset] == b"\n"
    assert tracked.pipeline.splitter.pending == data[tracked.offset : tracked.position]
    harness.poll()
    assert harness.lines("a.log") == count - taken
    harness.close()
