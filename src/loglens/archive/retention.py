"""Retention: segments whose first line arrived more than ``archive.retention`` ago are deleted.

A segment's age is read from its name (its start), the same in every backend, so a segment goes as a
whole once its first line is that old; its last line is younger by at most ``segment_max_seconds``.
"""

from __future__ import annotations

from loglens.archive.backend import Backend


def expire(backend: Backend, cutoff: float) -> int:
    """Delete the segments of ``backend`` that started before ``cutoff``; how many there were."""
    old = [segment.name for segment in backend.segments() if segment.name.started < cutoff]
    if old:
        backend.delete(old)
    return len(old)
