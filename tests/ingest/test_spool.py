"""The spool: frames decode to what was written, a torn tail is cut, and the source reads each line once."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.clock import FrozenClock
from loglens.config import load_settings
from loglens.ingest.source import SpoolSource
from loglens.ingest.spool import Outgoing, Spool, SpoolFull, decode_frames, encode_frame
from loglens.runtime import Runtime

line = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=40)
attribute = st.none() | st.fixed_dictionaries(
    {"labels": st.dictionaries(st.sampled_from(["app", "env"]), line, max_size=2)},
    optional={"metadata": st.dictionaries(st.sampled_from(["trace_id", "user"]), line, min_size=1)},
)
frame = st.tuples(
    st.sampled_from(["web", "api", "a/b"]), st.sampled_from(["auto", "level"]), st.lists(line, max_size=8)
).flatmap(
    lambda f: st.tuples(
        st.just(f[0]), st.just(f[1]), st.just(f[2]),
        st.none() | st.lists(attribute, min_size=len(f[2]), max_size=len(f[2])),
    )
)  # fmt: skip
Sent = tuple[str, str, list[str], list[dict[str, Any] | None] | None]


@given(st.lists(frame, max_size=12), st.data())
def test_any_cut_of_the_frames_decodes_to_the_whole_frames_before_it(
    frames: list[Sent], data: st.DataObject
) -> None:
    blob = b"".join(encode_frame(*f) for f in frames)
    cut = data.draw(st.integers(0, len(blob)))
    decoded, taken = decode_frames(blob[:cut], 0)
    assert [(d.source, d.format, d.lines, d.attributes) for d in decoded] == [
        (s, f, [text.encode("utf-8", "replace").decode() for text in ls], a)
        for s, f, ls, a in frames[: len(decoded)]
    ]
    ends = [0]
    for f in frames:
        ends.append(ends[-1] + len(encode_frame(*f)))
    assert taken == max(end for end in ends if end <= cut)  # every whole frame before the cut, no more


def _spool(folder: Path, **kwargs: int) -> Spool:
    spool = Spool(folder, **kwargs)
    spool.start()
    return spool


def test_attributes_reach_the_batch_aligned_with_its_lines_across_frames(tmp_path: Path) -> None:
    spool = _spool(tmp_path / "spool")
    kept = {"labels": {"app": "web", "env": "prod"}, "metadata": {"trace_id": "t1"}}
    spool.submit_many([
        Outgoing("web", "level", ["INFO a", "INFO b"]),
        Outgoing("web", "level", ["ERROR c", "INFO d"], [kept, None]),
        Outgoing("web", "level", ["INFO e"]),
    ]).result(timeout=10)  # fmt: skip
    spool.submit("plain", "level", ["INFO f"]).result(timeout=10)
    source = SpoolSource(spool)
    batches = list(source.poll(0.0))
    spool.stop()
    assert [(b.source, b.raw.to_list()) for b in batches] == [
        ("web", ["INFO a", "INFO b", "ERROR c", "INFO d", "INFO e"]), ("plain", ["INFO f"])
    ]  # fmt: skip
    attributes = batches[0].attributes
    assert attributes is not None
    decoded = [None if a is None else orjson.loads(a) for a in attributes.to_list()]
    assert decoded == [None, None, kept, None, None]
    assert batches[1].attributes is None  # a batch none of whose lines has any carries none


def test_lines_are_durable_when_the_future_completes_and_read_back_in_order(tmp_path: Path) -> None:
    spool = _spool(tmp_path / "spool", segment_bytes=4096)
    futures = [spool.submit("web", "auto", [f"line {i} " + "x" * 50, f"more {i}"]) for i in range(100)]
    for future in futures:
        future.result(timeout=30)
    for i in range(100, 200):  # one at a time: commits after the first 4 KiB go to new segments
        spool.submit("web", "auto", [f"line {i} " + "x" * 50, f"more {i}"]).result(timeout=30)
    assert spool.frames == 200
    assert spool.commits <= 200  # requests waiting together share one fsync
    assert len(spool.indexes()) > 1  # rolled past segment_bytes
    source = SpoolSource(spool)
    read = [line for batch in source.poll(0) for line in batch.raw.to_list()]
    assert read == [text for i in range(200) for text in (f"line {i} " + "x" * 50, f"more {i}")]
    assert list(source.poll(0)) == []
    spool.stop()


def test_a_torn_frame_left_by_a_crash_is_cut_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    spool = _spool(folder)
    spool.submit("web", "auto", ["kept"]).result(timeout=10)
    spool.stop()
    path = spool.path(spool.indexes()[-1])
    with open(path, "ab") as handle:
        handle.write(encode_frame("web", "auto", ["never answered"])[:-3])
    again = _spool(folder)
    assert path.read_bytes() == encode_frame("web", "auto", ["kept"])
    assert [line for batch in SpoolSource(again).poll(0) for line in batch.raw.to_list()] == ["kept"]
    again.stop()


def test_the_spool_refuses_once_it_holds_its_limit(tmp_path: Path) -> None:
    spool = _spool(tmp_path / "spool", max_bytes=1 << 20)
    spool.submit("web", "auto", ["x" * 1000] * 1100).result(timeout=10)
    with pytest.raises(SpoolFull, match=r"ingest\.spool_max_bytes"):
        spool.submit("web", "auto", ["one more"])
    spool.stop()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12), st.data())
def test_after_a_crash_at_any_checkpoint_every_line_is_counted_once(
    tmp_path_factory: pytest.TempPathFactory, requests: list[int], data: st.DataObject
) -> None:
    """Runtime + spool source: stop after some requests without a final checkpoint (a crash), restart,
    send the rest; the totals count every line exactly once and the spent spool files are gone."""
    folder = tmp_path_factory.mktemp("crash")
    crash_after = data.draw(st.integers(1, len(requests)))
    sent = 0
    config = load_settings(state={"dir": folder / "state"})
    clock = FrozenClock(1_700_000_000)

    def runtime(spool: Spool) -> Runtime:
        return Runtime(config, [SpoolSource(spool)], clock=clock, windows=False)

    spool = _spool(folder / "state" / "spool", segment_bytes=4096)
    first = runtime(spool)
    first.open()
    for n, count in enumerate(requests):
        spool.submit("web", "level", [f"ERROR req {n} line {i}" for i in range(count)]).result(timeout=10)
        sent += count
        first.poll_once()
        if data.draw(st.booleans()):
            first.checkpoint()
        if n + 1 == crash_after:
            break
    spool.stop()  # the crash: no final poll, no final checkpoint
    assert first.store is not None
    first.store.close()
    spool = _spool(folder / "state" / "spool", segment_bytes=4096)
    second = runtime(spool)
    second.open()
    for n, count in enumerate(requests[crash_after:], crash_after):
        spool.submit("web", "level", [f"ERROR req {n} line {i}" for i in range(count)]).result(timeout=10)
        sent += count
    while second.poll_once():
        pass
    second.poll_once()
    second.checkpoint()
    assert second.totals.sources["web"].lines == sent
    assert spool.indexes()[0] >= second.snapshot().sources["ingest"]["index"]  # spent files deleted
    spool.stop()
    second.close()


def test_a_spool_file_removed_by_hand_is_skipped_not_fatal(tmp_path: Path) -> None:
    spool = _spool(tmp_path / "spool", segment_bytes=4096)
    for i in range(60):
        spool.submit("web", "auto", [f"{i} " + "y" * 100]).result(timeout=10)
    first = spool.indexes()[0]
    os.unlink(spool.path(first))
    spool.remove_before(first + 1)  # the spool forgets it
    source = SpoolSource(spool)
    assert [line for batch in source.poll(0) for line in batch.raw.to_list()][-1] == "59 " + "y" * 100
    spool.stop()


def test_a_reader_polling_while_files_roll_reads_every_line_once(tmp_path: Path) -> None:
    """The reader must not move past a file the writer was still adding to when the reader looked
    (this lost whole requests at each roll under load before)."""
    spool = _spool(tmp_path / "spool", segment_bytes=4096)
    source = SpoolSource(spool)
    read: list[str] = []
    done = threading.Event()

    def write(client: int) -> None:
        for n in range(300):
            spool.submit("web", "auto", [f"c{client} n{n} " + "z" * 40]).result(timeout=30)

    writers = [threading.Thread(target=write, args=(c,)) for c in range(4)]
    for thread in writers:
        thread.start()
    reader = threading.Thread(target=lambda: [read.extend(b.raw.to_list()) for _ in iter(done.is_set, True)
                                              for b in source.poll(0)])  # fmt: skip
    reader.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    read += [line for batch in source.poll(0) for line in batch.raw.to_list()]
    assert len(spool.indexes()) > 10  # it rolled many times while being read
    assert sorted(read) == sorted(f"c{c} n{n} " + "z" * 40 for c in range(4) for n in range(300))
    spool.stop()
