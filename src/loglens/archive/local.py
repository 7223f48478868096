"""The local backend: closed segments moved into a folder, ``{archive.dir}/{source}/{YYYY}/.../{name}``."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from loglens.archive.backend import StoredSegment
from loglens.archive.names import SegmentName


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBackend:
    """A folder of segments (the spool's file system or another)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.where = str(self.root)

    def store(self, path: Path, name: SegmentName) -> None:
        """Move the segment in: a rename, or on another file system a synced copy renamed into place."""
        target = self.root / name.key
        made = not target.parent.is_dir()
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            partial = target.with_name(f".{target.name}.partial")
            with open(path, "rb") as source, open(partial, "wb") as copy:
                shutil.copyfileobj(source, copy)
                copy.flush()
                os.fsync(copy.fileno())
            os.replace(partial, target)
            path.unlink()
        _fsync_folder(target.parent)
        if made:
            for folder in list(target.parents)[1 : len(name.key.split("/"))]:
                _fsync_folder(folder)

    def segments(self, sources: Collection[str] | None = None) -> Iterator[StoredSegment]:
        """Every segment in the folder (of ``sources`` when given)."""
        if not self.root.is_dir():
            return
        for top in sorted(os.scandir(self.root), key=lambda entry: entry.name):
            if (
                top.name.startswith(".")
                or not top.is_dir()
                or (sources is not None and top.name not in sources)
            ):
                continue
            for folder, _dirs, files in os.walk(top.path):
                for file in files:
                    path = Path(folder, file)
                    name = SegmentName.parse(path.relative_to(self.root).as_posix())
                    if name is None:
                        continue
                    try:
                        st = path.stat()
                    except FileNotFoundError:  # deleted meanwhile (retention)
                        continue
                    yield StoredSegment(name, st.st_size, st.st_mtime)

    def delete(self, names: Sequence[SegmentName]) -> None:
        """Delete the segments, and the hour, day, month and year folders they leave empty."""
        for name in names:
            path = self.root / name.key
            path.unlink(missing_ok=True)
            for folder in list(path.parents)[: len(name.key.split("/")) - 2]:
                try:
                    folder.rmdir()
                except OSError:  # not empty (or gone)
                    break

    def open(self, name: SegmentName) -> BinaryIO:
        """The segment's file."""
        return open(self.root / name.key, "rb")
