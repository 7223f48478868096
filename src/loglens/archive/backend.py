"""Where closed segments are kept: what a backend does, and the one the settings name."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from loglens.archive.names import SegmentName
from loglens.config import Settings


@dataclass(frozen=True)
class StoredSegment:
    """A segment the backend holds."""

    name: SegmentName
    size: int
    modified: float  # when it was stored (its last line arrived before)


class Backend(Protocol):
    """A local folder or an S3 bucket; every method may be called from any thread."""

    kind: str  # "local" or "s3"
    where: str  # the folder, or s3://bucket/prefix

    def store(self, path: Path, name: SegmentName) -> None:
        """Keep the closed segment at ``path`` as ``name``; the spool file is gone afterwards.

        Raises:
            OSError, botocore errors: it is not stored (try again later).
        """
        ...

    def segments(self, sources: Collection[str] | None = None) -> Iterator[StoredSegment]:
        """The segments held, of the path-safe ``sources`` only when given, in no particular order."""
        ...

    def delete(self, names: Sequence[SegmentName]) -> None:
        """Delete these segments."""
        ...

    def open(self, name: SegmentName) -> BinaryIO:
        """The segment's gzip bytes, to read."""
        ...


def backend_for(settings: Settings) -> Backend:
    """The backend of ``settings.archive``.

    Raises:
        ConfigError: the S3 backend without boto3, or with an unusable endpoint.
    """
    archive = settings.archive
    if archive.backend == "s3":
        from loglens.archive.s3 import S3Backend

        return S3Backend(archive.s3)
    from loglens.archive.local import LocalBackend

    return LocalBackend(archive.folder(settings.state.dir))
