"""What the checkpoint keeps of one followed file."""

from __future__ import annotations

import os
from dataclasses import astuple, dataclass
from typing import Any

from loglens.sources.discovery import MIN_MATCH_BYTES, FileId, Fingerprint, is_rotated_name


@dataclass
class FileState:
    """One file's saved position.

    Attributes:
        dev: device of the file.
        ino: inode of the file.
        path: path it was last seen at (for a symbolic link, the link).
        real: the path with links resolved.
        source: its ``source`` label.
        spec: key of the source spec that found it.
        offset: bytes counted (complete lines only).
        fp_length: bytes covered by the fingerprint.
        fp_digest: digest of those bytes.
        state: ``following`` (found by a source), ``draining`` (rotated away or deleted, read until idle),
            or ``retired`` (read to its end and closed; kept to resume it if it comes back).
    """

    dev: int
    ino: int
    path: str
    real: str
    source: str
    spec: str
    offset: int
    fp_length: int
    fp_digest: str
    state: str = "following"

    @property
    def id(self) -> FileId:
        """``(device, inode)``."""
        return (self.dev, self.ino)

    @property
    def live(self) -> bool:
        """True for a file still open (following or draining)."""
        return self.state != "retired"

    @property
    def fingerprint(self) -> Fingerprint:
        """The saved fingerprint."""
        return Fingerprint(self.fp_length, self.fp_digest)

    def resumable(self, fd: int, size: int) -> bool:
        """Whether the file, found again open as ``fd`` with ``size`` bytes, starts as it did and holds the
        offset; or is shorter with its whole fingerprint (first KiB) unchanged: cut (``truncate -s``),
        and the read resumes at its end."""
        return self.fingerprint.matches(fd) and (size >= self.offset or self.fingerprint.complete)

    def same_file(self, path: str, real: str) -> bool:
        """Whether the file found again by its inode at ``path`` is this one, not a new one on a freed inode.

        Trusted when found at the same place, when its fingerprint is long enough to identify it, or when
        the new name is a rotated name of the old one (a rename).
        """
        if self.real == real or self.fp_length >= MIN_MATCH_BYTES:
            return True
        return is_rotated_name(os.path.basename(path), os.path.basename(self.path)) or is_rotated_name(
            os.path.basename(real), os.path.basename(self.real)
        )

    def to_row(self) -> list[Any]:
        """The fields in order, JSON-ready."""
        return list(astuple(self))

    @classmethod
    def from_row(cls, row: list[Any]) -> FileState:
        """Read back :meth:`to_row`."""
        return cls(*row)
