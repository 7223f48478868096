"""Where generated lines go: stdout, a file, a folder of stream files, or an HTTP endpoint.

Files are opened for appending and can rotate by size, the two ways log shippers meet in practice:
``rename`` (``x.log`` becomes ``x.log.1``, older backups shift up) and ``copytruncate`` (``x.log`` is
copied to ``x.log.1`` and truncated in place, keeping its inode). Rotation is written here rather than
with ``logging.handlers.RotatingFileHandler`` because that handler works one record at a time and has no
copytruncate mode. Line ``i`` of the run goes to stream ``i % streams``.
"""

from __future__ import annotations

import os
import shutil
import sys
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO, Protocol

import httpx
import orjson

from loglens.errors import ConfigError, LoglensError

ROTATE_MODES: tuple[str, ...] = ("rename", "copytruncate")


class Output(Protocol):
    """A destination of generated lines."""

    def write(self, first: int, lines: list[str]) -> None:
        """Write lines ``first .. first+len(lines)-1`` of the run."""
        ...

    def flush(self) -> None:
        """Make everything written so far visible to readers."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...


def _blob(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode() if lines else b""


class StreamOutput:
    """Lines to a binary stream (stdout by default)."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer

    def write(self, first: int, lines: list[str]) -> None:
        """Write the lines."""
        self._stream.write(_blob(lines))

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    def close(self) -> None:
        """Flush; the stream stays open."""
        self.flush()


def _backup(path: Path, k: int) -> Path:
    return path.with_name(f"{path.name}.{k}")


class RotatingFile:
    """An appended file that rotates before a write would take it past ``rotate_bytes``."""

    def __init__(
        self, path: Path, rotate_bytes: int | None = None, mode: str = "rename", keep: int = 5
    ) -> None:
        """Open ``path`` for appending.

        Args:
            path: the file; its folder is created if missing.
            rotate_bytes: size limit, or None never to rotate. A line longer than the limit gets a file
                of its own.
            mode: ``rename`` or ``copytruncate``.
            keep: rotated files kept (``x.log.1`` .. ``x.log.keep``); 0 keeps all.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rotate_bytes = rotate_bytes
        self.mode = mode
        self.keep = keep
        self._file = path.open("ab")
        self._size = self._file.tell()

    def write(self, lines: list[str]) -> None:
        """Append the lines, rotating between lines whenever the next one would not fit."""
        if not self.rotate_bytes:
            self._file.write(_blob(lines))
            return
        ends = list(accumulate(len(line) + 1 for line in lines))  # content is ASCII: chars == bytes
        start, written = 0, 0
        while start < len(lines):
            end = bisect_right(ends, written + self.rotate_bytes - self._size, lo=start)
            if end == start:
                if self._size:
                    self.rotate()
                    continue
                end = start + 1
            self._file.write(_blob(lines[start:end]))
            self._size += ends[end - 1] - written
            start, written = end, ends[end - 1]

    def rotate(self) -> None:
        """Shift backups up by one and make the current content ``<path>.1``; start empty."""
        self._file.flush()
        count = 0
        while _backup(self.path, count + 1).exists():
            count += 1
        for k in range(count, 0, -1):
            if self.keep and k >= self.keep:
                _backup(self.path, k).unlink()
            else:
                os.replace(_backup(self.path, k), _backup(self.path, k + 1))
        if self.mode == "rename":
            self._file.close()
            os.replace(self.path, _backup(self.path, 1))
            self._file = self.path.open("ab")
        else:
            shutil.copyfile(self.path, _backup(self.path, 1))
            os.ftruncate(self._file.fileno(), 0)  # opened with O_APPEND: the next write lands at 0
        self._size = 0

    def flush(self) -> None:
        """Flush to the operating system."""
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


class FilesOutput:
    """Lines to one file, or spread over ``stream-K.log`` files in a folder."""

    def __init__(self, files: list[RotatingFile]) -> None:
        self.files = files

    def write(self, first: int, lines: list[str]) -> None:
        """Write each line to its stream's file."""
        n = len(self.files)
        if n == 1:
            self.files[0].write(lines)
            return
        for k, file in enumerate(self.files):
            file.write(lines[(k - first) % n :: n])

    def flush(self) -> None:
        """Flush every file."""
        for file in self.files:
            file.flush()

    def close(self) -> None:
        """Close every file."""
        for file in self.files:
            file.close()


class HttpOutput:
    """Lines POSTed in batches to ``POST /api/logs``: a JSON array, ``?source=`` naming the stream."""

    def __init__(
        self,
        url: str,
        source: str = "generate",
        streams: int = 1,
        batch_size: int = 1000,
        token: str | None = None,
        sleep: Callable[[float], None] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        """Prepare batching; ``streams`` > 1 sends as sources ``<source>-0``, ``<source>-1``..."""
        self.url = url
        self.sources = [source] if streams == 1 else [f"{source}-{k}" for k in range(streams)]
        self.batch_size = batch_size
        self._buffers: list[list[str]] = [[] for _ in self.sources]
        self._sleep = sleep
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._client = client or httpx.Client(timeout=10.0, headers=headers)

    def write(self, first: int, lines: list[str]) -> None:
        """Buffer the lines; POST every full batch."""
        n = len(self.sources)
        for k, buffer in enumerate(self._buffers):
            buffer.extend(lines if n == 1 else lines[(k - first) % n :: n])
            while len(buffer) >= self.batch_size:
                batch = buffer[: self.batch_size]
                del buffer[: self.batch_size]
                self._post(k, batch)

    def flush(self) -> None:
        """POST what is buffered (a batch that fails is not sent again)."""
        for k, buffer in enumerate(self._buffers):
            if buffer:
                self._buffers[k] = []
                self._post(k, buffer)

    def close(self) -> None:
        """POST what is buffered and close the connection."""
        try:
            self.flush()
        finally:
            self._client.close()

    def _post(self, stream: int, lines: list[str], attempts: int = 3) -> None:
        body = orjson.dumps(lines)
        params = {"source": self.sources[stream]}
        problem = ""
        for attempt in range(attempts):
            if attempt and self._sleep is not None:
                self._sleep(0.5 * 2**attempt)
            try:
                response = self._client.post(self.url, content=body, params=params)
            except httpx.TransportError as exc:
                problem = f"cannot reach it ({exc})"
                continue
            if response.status_code < 400:
                return
            problem = f"HTTP {response.status_code}: {response.text[:200]}"
            if response.status_code < 500 and response.status_code != 429:
                break
        raise LoglensError(f"output {self.url}: {problem}")


def open_output(
    target: str,
    *,
    streams: int | None = None,
    rotate_bytes: int | None = None,
    rotate_mode: str = "rename",
    rotate_keep: int = 5,
    source: str = "generate",
    batch_size: int = 1000,
    token: str | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Output:
    """Open the output named by ``target``: ``-`` (stdout), an ``http(s)://`` URL, a folder, or a file.

    A target is a folder when ``streams`` is given or it is an existing directory.

    Raises:
        ConfigError: an option that does not fit the target (streams on stdout, rotation over HTTP...).
    """
    if target.startswith(("http://", "https://")):
        if rotate_bytes:
            raise ConfigError("--rotate-bytes needs a file or folder output, not a URL")
        return HttpOutput(target, source, streams or 1, batch_size, token, sleep)
    if target == "-":
        if streams or rotate_bytes:
            raise ConfigError("--streams and --rotate-bytes need a file, folder or URL output, not stdout")
        return StreamOutput()
    path = Path(target)
    if streams is None and not path.is_dir():
        return FilesOutput([RotatingFile(path, rotate_bytes, rotate_mode, rotate_keep)])
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--streams needs a folder, and {target} is a file")
    return FilesOutput(
        [
            RotatingFile(path / f"stream-{k}.log", rotate_bytes, rotate_mode, rotate_keep)
            for k in range(streams or 1)
        ]
    )
