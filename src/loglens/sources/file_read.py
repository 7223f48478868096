"""Read whole inputs (plain files, gzip files, standard input) in fixed-size chunks."""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from loglens.errors import SourceError

#: Bytes per read. Bigger chunks parse and fold faster (fewer polars calls per line), but each chunk in
#: flight costs about ten times its size (bench/README.md, "chunk size"). 2 MiB keeps a replay that
#: folds the report's panels, which hold up to 100,000 keys each, under the 200 MB of peak RSS it aims for.
CHUNK_BYTES = 2 * 1024 * 1024
#: A replay without panels (``--output prometheus``) has that memory to spend on bigger chunks.
CHUNK_BYTES_WITHOUT_PANELS = 3 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def input_size(name: str) -> int | None:
    """Size in bytes of a regular file, None for standard input."""
    return None if name == "-" else os.stat(name).st_size


def open_input(name: str) -> BinaryIO:
    """Open a file (gzip detected by its magic bytes) or ``-`` for standard input.

    Raises:
        SourceError: the file is missing, a folder, or unreadable.
    """
    if name == "-":
        return sys.stdin.buffer
    path = Path(name)
    try:
        handle: BinaryIO = path.open("rb")
    except FileNotFoundError:
        raise SourceError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{name}: is a folder, not a file") from None
    except OSError as exc:
        raise SourceError(f"{name}: cannot open: {exc.strerror}") from None
    if handle.read(2) == _GZIP_MAGIC:
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    handle.seek(0)
    return handle


def read_chunks(handle: BinaryIO, size: Callable[[], int]) -> Iterator[bytes]:
    """Yield the input in chunks of up to ``size()`` bytes (asked before each read).

    Raises:
        SourceError: a corrupt gzip stream or a read error.
    """
    try:
        while chunk := handle.read(size()):
            yield chunk
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(f"read error: {exc}") from None


def raw_position(handle: BinaryIO) -> int:
    """Bytes of the underlying file consumed so far (compressed bytes for gzip)."""
    inner = getattr(handle, "fileobj", None) or handle
    try:
        return int(inner.tell())
    except (OSError, ValueError):
        return 0
