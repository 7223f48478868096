"""Which files a source names, and how a file is recognized again: identity and fingerprint.

A source is a file, a glob or a folder (its regular files, not recursive). Compressed files
(``.gz``, ``.bz2``, ``.xz``, ``.zst``...) are never followed: they are rotated copies already read.
A file is known by its device and inode plus a fingerprint of its first bytes, which tells a reused
inode or a rewritten file from the file loglens was reading.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loglens.errors import SourceError

#: Suffixes of compressed files, which are never followed.
COMPRESSED_SUFFIXES: tuple[str, ...] = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".z", ".lzma", ".br")
#: Bytes at the start of a file that make its fingerprint.
FINGERPRINT_BYTES = 1024

#: Fewest fingerprint bytes that identify a copy of a file (shorter prefixes, e.g. a header, are too common).
MIN_MATCH_BYTES = 64

FileId = tuple[int, int]
"""A file's ``(device, inode)``."""


def is_compressed(path: str) -> bool:
    """True for names of compressed files."""
    return path.lower().endswith(COMPRESSED_SUFFIXES)


def file_id(st: os.stat_result) -> FileId:
    """The ``(device, inode)`` of a stat result."""
    return (st.st_dev, st.st_ino)


@dataclass(frozen=True)
class Fingerprint:
    """A digest of a file's first ``length`` bytes (up to :data:`FINGERPRINT_BYTES`)."""

    length: int
    digest: str

    @classmethod
    def of(cls, head: bytes) -> Fingerprint:
        """Fingerprint of ``head``, the first bytes of a file."""
        head = head[:FINGERPRINT_BYTES]
        return cls(len(head), hashlib.blake2b(head, digest_size=16).hexdigest())

    @classmethod
    def read(cls, fd: int, length: int = FINGERPRINT_BYTES) -> Fingerprint:
        """Fingerprint of the first ``length`` bytes of the open file ``fd``."""
        return cls.of(os.pread(fd, min(length, FINGERPRINT_BYTES), 0))

    @property
    def complete(self) -> bool:
        """True once the fingerprint covers :data:`FINGERPRINT_BYTES` (it no longer changes)."""
        return self.length >= FINGERPRINT_BYTES

    def matches(self, fd: int) -> bool:
        """True when the open file ``fd`` starts with the bytes this fingerprint was taken from."""
        return self.length == 0 or Fingerprint.read(fd, self.length) == self


@dataclass(frozen=True)
class SourceSpec:
    """One configured source, resolved: what to match and how to read and label it."""

    path: str
    format: str = "auto"
    pattern: str | None = None
    name: str | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        """Stable identity of the spec across runs (the checkpoint remembers which specs it has seen)."""
        return os.path.abspath(self.path)

    @property
    def is_glob(self) -> bool:
        """True when the path holds glob characters."""
        return glob.has_magic(self.path)

    def label(self, path: str) -> str:
        """The ``source`` label of a file found by this spec: the configured name, else its path."""
        return self.name or path

    def check(self) -> None:
        """Fail at start-up for a source that can never match: a literal path in a missing folder.

        Raises:
            SourceError: the folder of a literal path does not exist, or the path names a compressed file.
        """
        if self.is_glob:
            return
        if is_compressed(self.path):
            raise SourceError(f"{self.path}: compressed files are not followed; use `loglens replay`")
        parent = Path(self.path).parent
        if not Path(self.path).exists() and not parent.is_dir():
            raise SourceError(f"{self.path}: no such file, and its folder {parent} does not exist")

    def matches(self) -> Iterator[str]:
        """Paths of the regular, uncompressed files this spec names now.

        Raises:
            OSError: the folder to list exists but cannot be listed (permission, out of descriptors).
        """
        folder, name = os.path.split(self.path)
        if self.is_glob and glob.has_magic(folder):
            candidates: Iterable[str] = sorted(glob.glob(self.path))
        elif self.is_glob:  # the common case, listed here so that a failure is seen, not taken for "none"
            hidden = name.startswith(".")
            names = [n for n in _list_folder(folder or ".") if hidden or not n.startswith(".")]
            candidates = sorted(os.path.join(folder, n) for n in fnmatch.filter(names, name))
        elif os.path.isdir(self.path):
            candidates = sorted(os.path.join(self.path, name) for name in _list_folder(self.path))
        else:
            candidates = [self.path]
        for path in candidates:
            if not is_compressed(path):
                yield path


@dataclass
class Found:
    """A file seen by discovery: the path it was found at, its target and stat."""

    path: str
    real: str
    spec: SourceSpec
    stat: os.stat_result


_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISDIR, "folder"),
    (stat.S_ISREG, "regular file"),
)


class NotRegularFile(OSError):
    """A path that names something else than a regular file (a FIFO, a socket, a device)."""

    def __init__(self, path: str, st: os.stat_result) -> None:
        super().__init__(f"{path}: not a regular file ({file_kind(st)})")
        self.path = path
        self.stat = st


def file_kind(st: os.stat_result) -> str:
    """What a stat result is, in words: ``FIFO``, ``socket``, ``device``..."""
    return next((name for test, name in _KINDS if test(st.st_mode)), "special file")


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """Open ``path`` read-only, if it is a regular file, without ever blocking.

    The type is checked on the open descriptor (the path may have been swapped since it was listed):
    opening a FIFO blocks until a writer opens it, unless ``O_NONBLOCK``, which is then cleared.

    Raises:
        NotRegularFile: it is a FIFO, a socket, a device or a folder.
        OSError: it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, st)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def discover(
    specs: Iterable[SourceSpec],
    failed: Callable[[SourceSpec, OSError], None] | None = None,
    irregular: Callable[[SourceSpec, str, os.stat_result], None] | None = None,
) -> dict[FileId, Found]:
    """Every regular file the specs name, by identity (the first spec to name a file owns it).

    Symbolic links are followed: the identity is the target's, the path stays the link's. A spec whose
    folder cannot be listed is handed to ``failed`` (and skipped); without it, the error is raised.
    A FIFO, socket or device a spec names is handed to ``irregular`` (folders are skipped).
    """
    found: dict[FileId, Found] = {}
    for spec in specs:
        try:
            paths = list(spec.matches())
        except OSError as exc:
            if failed is None:
                raise
            failed(spec, exc)
            continue
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.setdefault(file_id(st), Found(path, os.path.realpath(path), spec, st))
            elif irregular is not None and not stat.S_ISDIR(st.st_mode):
                irregular(spec, path, st)
    return found


def is_rotated_name(name: str, original: str) -> bool:
    """True when file name ``name`` looks like a rotated copy of ``original``.

    ``app.log`` -> ``app.log.1``, ``app.log-20240501``, ``app-2024-05-01.log``, ``app_1.log``: the original's
    name up to its first dot, then ``.``, ``-`` or ``_``. Copies are only looked for under such names, so
    two unrelated files that happen to start alike are never taken for copies of each other.
    """
    stem = original.split(".", 1)[0] or original
    return name != original and name.startswith(stem) and name[len(stem) : len(stem) + 1] in (".", "-", "_")


def find_renamed(folders: Iterable[str], wanted: FileId, fingerprint: Fingerprint) -> tuple[str, int] | None:
    """Find the file ``wanted``, renamed while loglens was stopped, in ``folders``.

    Returns:
        ``(path, open descriptor)`` of the file, or None.
    """
    for path, st in _regular_files(folders):
        if file_id(st) == wanted:
            opened = open_verified(path, wanted, fingerprint)
            if opened is not None:
                return path, opened
    return None


def find_copy(
    originals: Iterable[str], fingerprint: Fingerprint, min_size: int, skip: set[FileId]
) -> tuple[str, int] | None:
    """Find a copy of a truncated file (copytruncate): same first bytes, at least ``min_size`` bytes.

    Looked for next to each of the ``originals`` paths, under rotated names (:func:`is_rotated_name`).

    Returns:
        ``(path, open descriptor)`` of the copy, or None.
    """
    if fingerprint.length < MIN_MATCH_BYTES:
        return None
    originals = list(dict.fromkeys(originals))
    folders = [os.path.dirname(path) or "." for path in originals]
    names = [os.path.basename(path) for path in originals]
    for path, st in _regular_files(folders):
        fid = file_id(st)
        if fid in skip or st.st_size < min_size:
            continue
        if any(is_rotated_name(os.path.basename(path), name) for name in names):
            opened = open_verified(path, fid, fingerprint)
            if opened is not None:
                return path, opened
    return None


def _regular_files(folders: Iterable[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Uncompressed regular files in ``folders`` with their stat."""
    for folder in dict.fromkeys(folders):
        for name in _listdir(folder):
            path = os.path.join(folder, name)
            if is_compressed(path):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                yield path, st


def open_verified(path: str, wanted: FileId, fingerprint: Fingerprint) -> int | None:
    """Open ``path`` read-only if it is still the file ``wanted`` and starts with ``fingerprint``."""
    try:
        fd, st = open_regular(path)
    except OSError:
        return None
    if file_id(st) == wanted and fingerprint.matches(fd):
        return fd
    os.close(fd)
    return None


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _list_folder(folder: str) -> list[str]:
    """Names in ``folder``; none when it does not exist (yet), an error when it cannot be listed."""
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
