"""Copies of followed files (copytruncate): known by their first bytes, rotated name and last bytes."""

from __future__ import annotations

import os

from loglens.sources.discovery import MIN_MATCH_BYTES, FileId, Fingerprint, is_rotated_name
from loglens.sources.file_state import FileState
from loglens.sources.tracked import TrackedFile, same_bytes_before


class CopyIndex:
    """The followed files by fingerprint, built at the first question of a poll and kept up to date."""

    def __init__(self, files: dict[FileId, TrackedFile]) -> None:
        self.files = files
        self._by_fingerprint: dict[int, dict[str, list[TrackedFile]]] | None = None

    def reset(self) -> None:
        """Forget the index (a poll starts: followed files may have grown or changed)."""
        self._by_fingerprint = None

    def add(self, tracked: TrackedFile) -> None:
        """A file is followed from now on."""
        if self._by_fingerprint is not None:
            self._put(tracked)

    def source_of(self, fd: int, path: str, size: int) -> str | None:
        """Source of a followed file the new file ``fd`` at ``path`` is a copy of, or None.

        A copy has a rotated name of the original (:func:`is_rotated_name`) and the same first and last
        bytes.
        """
        if self._by_fingerprint is None:
            self._by_fingerprint = {}
            for tracked in self.files.values():
                self._put(tracked)
        if not self._by_fingerprint:
            return None
        head = os.pread(fd, min(size, max(self._by_fingerprint)), 0)
        for length, digests in self._by_fingerprint.items():
            if len(head) < length:
                continue
            for original in digests.get(Fingerprint.of(head[:length]).digest, []):
                named = is_rotated_name(os.path.basename(path), os.path.basename(original.path))
                if named and original.id in self.files and same_bytes_before(fd, original.fd, size):
                    return original.source
        return None

    def restart_copy(self, old: FileState) -> bool:
        """Read a copy of the truncated ``old`` found earlier (and started at its end) from ``old.offset``."""
        for other in list(self.files.values()):
            untouched = other.offset == other.start_offset and not other.pipeline.pending_bytes
            behind = old.offset < other.offset and other.id != old.id
            named = is_rotated_name(os.path.basename(other.path), os.path.basename(old.path))
            if untouched and behind and named and old.fingerprint.matches(other.fd):
                other.restart_at(old.offset)
                return True
        return False

    def _put(self, tracked: TrackedFile) -> None:
        fingerprint = tracked.fingerprint
        if self._by_fingerprint is not None and fingerprint.length >= MIN_MATCH_BYTES:
            by_digest = self._by_fingerprint.setdefault(fingerprint.length, {})
            by_digest.setdefault(fingerprint.digest, []).append(tracked)
