"""What the checkpoint keeps of one followed file."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from loglens.sources.discovery import FileId, Fingerprint


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

    def to_row(self) -> list[Any]:
        """The fields in order, JSON-ready."""
        return list(astuple(self))

    @classmethod
    def from_row(cls, row: list[Any]) -> FileState:
        """Read back :meth:`to_row`."""
        return cls(*row)
