"""The ingest spool: lines received over HTTP, appended to local files and fsynced before they are answered.

One writer thread takes every request waiting, appends them as frames to the current spool file, fsyncs
it once for all of them (group commit), and only then completes their futures: an HTTP 200 means the
lines are on disk. :class:`~loglens.ingest.source.SpoolSource` reads the frames back as a runtime source.

A frame is one header line, JSON ``{"s": source, "f": format, "n": lines, "b": payload bytes}``, then
the payload: ``n`` lines, each ending in ``\\n``. A frame whose shipper sent more than lines (Loki's
stream labels and structured metadata) has ``"a"`` too: one object, or null, per line. Files are
``{index:016d}.spool``; the writer starts a new one past ``segment_bytes`` and at every start, and the
source deletes the files before the position the checkpoint holds. A frame torn by a crash (written,
never fsynced, never answered) is cut off at start.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson

log = logging.getLogger(__name__)

SUFFIX = ".spool"
#: Bytes the writer takes from the queue for one write and fsync.
COMMIT_BYTES = 8 * 1024 * 1024


class SpoolFull(Exception):
    """The spool holds more than its limit: the reader is behind; the client should retry later."""


@dataclass
class _Request:
    frame: bytes
    done: Future[None] = field(default_factory=Future)


#: Per line, what a shipper sent beside it (``{"labels": {...}, "metadata": {...}}``), or None.
Attributes = list[dict[str, Any] | None]


class Outgoing(NamedTuple):
    """One frame to write: a source's lines, their format, and their attributes if any."""

    source: str
    format: str
    lines: list[str]
    attributes: Attributes | None = None


def encode_frame(source: str, format_: str, lines: list[str], attributes: Attributes | None = None) -> bytes:
    """One frame: its header line and its lines (none of which may hold a newline).

    Raises:
        ValueError: ``attributes`` is not one entry per line.
    """
    payload = "".join(f"{line}\n" for line in lines).encode("utf-8", "replace")
    header: dict[str, Any] = {"s": source, "f": format_, "n": len(lines), "b": len(payload)}
    if attributes is not None:
        if len(attributes) != len(lines):
            raise ValueError(f"{len(attributes)} attributes for {len(lines)} lines")
        header["a"] = attributes
    return orjson.dumps(header) + b"\n" + payload


@dataclass(frozen=True)
class Frame:
    """A decoded frame and the offset just past it."""

    source: str
    format: str
    lines: list[str]
    end: int
    attributes: Attributes | None = None


def decode_frames(data: bytes, base: int) -> tuple[list[Frame], int]:
    """The whole frames at the start of ``data`` (read from file offset ``base``), and the bytes they take.

    Stops at the first frame that is incomplete or damaged; what follows it is not read.
    """
    frames, at = [], 0
    while at < len(data):
        newline = data.find(b"\n", at)
        if newline < 0:
            break
        try:
            header = orjson.loads(data[at:newline])
            source, format_, count, size = header["s"], header["f"], header["n"], header["b"]
            attributes = header.get("a")
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            break
        end = newline + 1 + size
        if end > len(data) or (size and data[end - 1 : end] != b"\n"):
            break
        lines = data[newline + 1 : end].decode("utf-8", "replace").split("\n")[:-1] if size else []
        if len(lines) != count or (attributes is not None and len(attributes) != count):
            break
        frames.append(Frame(source, format_, lines, base + end, attributes))
        at = end
    return frames, at


class Spool:
    """The spool folder and its writer thread.

    Args:
        folder: where the spool files live (created).
        segment_bytes: a file past this size is closed and a new one started.
        max_bytes: above this many bytes on disk, :meth:`submit` refuses with :class:`SpoolFull`.
    """

    def __init__(self, folder: Path, segment_bytes: int = 64 * 1024 * 1024, max_bytes: int = 1 << 30) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        self.max_bytes = max_bytes
        self.commits = 0  # fsyncs done
        self.frames = 0  # requests made durable
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._lock = threading.Lock()
        self._durable: dict[int, int] = {}  # file index -> bytes durable in it
        self._current = -1
        self._file: int | None = None  # descriptor of the current file
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def bind(self, runtime: object) -> None:
        """Nothing to bind: the spool is a view of the runtime only to start and stop with it."""

    def start(self) -> None:
        """Create the folder, cut a torn frame off the last file, start a new file and the writer.

        Requests submitted before this wait in the queue.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        indexes = self.indexes()
        if indexes:
            self._cut_torn_tail(indexes[-1])
        with self._lock:
            for index in indexes:
                self._durable[index] = self.path(index).stat().st_size
        self._start_file((indexes[-1] + 1) if indexes else 0)
        self._thread = threading.Thread(target=self._write_loop, name="loglens-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then stop the writer and close the file."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._file is not None:
            os.close(self._file)
            self._file = None

    # -- writing ---------------------------------------------------------------------------------------

    def submit(self, source: str, format_: str, lines: list[str]) -> Future[None]:
        """Queue ``lines``; the future completes once they are fsynced (or fails with the write's error).

        Raises:
            SpoolFull: the spool holds more than ``max_bytes``.
        """
        if self.size() > self.max_bytes:
            raise SpoolFull(f"the spool holds more than {self.max_bytes} bytes (ingest.spool_max_bytes)")
        request = _Request(encode_frame(source, format_, lines))
        self._queue.put(request)
        return request.done

    def submit_many(self, frames: list[Outgoing]) -> Future[None]:
        """Queue several frames as one write: durable together, or not at all.

        Raises:
            SpoolFull: the spool holds more than ``max_bytes``.
        """
        if self.size() > self.max_bytes:
            raise SpoolFull(f"the spool holds more than {self.max_bytes} bytes (ingest.spool_max_bytes)")
        request = _Request(b"".join(encode_frame(*frame) for frame in frames))
        self._queue.put(request)
        return request.done

    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            group: list[_Request] = []
            size = 0
            while item is not None:
                group.append(item)
                size += len(item.frame)
                if size >= COMMIT_BYTES:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stopping = item is None
            if group:
                self._commit(group)

    def _commit(self, group: list[_Request]) -> None:
        """Append the group's frames, fsync once, then answer every request of it."""
        assert self._file is not None
        try:
            data = b"".join(request.frame for request in group)
            view = memoryview(data)
            while view:
                view = view[os.write(self._file, view) :]
            os.fsync(self._file)
        except OSError as exc:
            log.error("spool write failed: %s", exc)
            self._recover_after_failure()
            for request in group:
                request.done.set_exception(exc)
            return
        with self._lock:
            self._durable[self._current] += len(data)
            self.commits += 1
            self.frames += len(group)
        for request in group:
            request.done.set_result(None)
        if self._durable[self._current] >= self.segment_bytes:
            self._start_file(self._current + 1)

    def _recover_after_failure(self) -> None:
        """After a failed write, cut the file back to what is durable (a partial frame must not stay)."""
        assert self._file is not None
        try:
            os.ftruncate(self._file, self._durable[self._current])
            os.lseek(self._file, 0, os.SEEK_END)
        except OSError as exc:
            log.error(
                "spool file %s cannot be cut back: %s; starting a new one", self.path(self._current), exc
            )
            self._start_file(self._current + 1)

    def _start_file(self, index: int) -> None:
        fd = os.open(self.path(index), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_folder(self.folder)
        if self._file is not None:
            os.close(self._file)
        with self._lock:
            self._file, self._current = fd, index
            self._durable.setdefault(index, os.fstat(fd).st_size)

    def _cut_torn_tail(self, index: int) -> None:
        path = self.path(index)
        data = path.read_bytes()
        _, whole = decode_frames(data, 0)
        if whole < len(data):
            log.warning("spool file %s: cutting %d bytes never acknowledged", path, len(data) - whole)
            with open(path, "r+b") as handle:
                handle.truncate(whole)
                os.fsync(handle.fileno())

    # -- what the reader sees --------------------------------------------------------------------------

    def path(self, index: int) -> Path:
        """The file of ``index``."""
        return self.folder / f"{index:016d}{SUFFIX}"

    def indexes(self) -> list[int]:
        """The spool files on disk, oldest first."""
        return sorted(int(p.stem) for p in self.folder.glob(f"*{SUFFIX}") if p.stem.isdigit())

    def durable(self) -> tuple[dict[int, int], int]:
        """Bytes durable per file index (what the reader may read), and the index of the file being
        written, taken together: a file before that one gets no more frames."""
        with self._lock:
            return dict(self._durable), self._current

    def size(self) -> int:
        """Bytes in the spool files on disk."""
        with self._lock:
            return sum(self._durable.values())

    def remove_before(self, index: int) -> None:
        """Delete the files before ``index`` (their lines are in the checkpoint)."""
        with self._lock:
            old = [i for i in self._durable if i < index and i != self._current]
        for i in old:
            try:
                self.path(i).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot delete spool file %s: %s", self.path(i), exc)
                continue
            with self._lock:
                self._durable.pop(i, None)


def _fsync_folder(folder: Path) -> None:
    """Make a file's creation in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
