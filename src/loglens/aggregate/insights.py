"""What happened over the last N seconds, as one JSON-ready mapping (API, console, web page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loglens.aggregate.capped import OTHER
from loglens.aggregate.crud import crud
from loglens.aggregate.windows import OTHER_STATUS, SecondStats, Windows

#: Orders the top sections can be listed in: most hits, most errors, highest error share, by name.
SECTION_SORTS: tuple[str, ...] = ("hits", "errors", "error_share", "section")


def iso_second(second: int) -> str:
    """``second`` (epoch seconds) as ISO-8601 UTC, to the second."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sections(stats: SecondStats, limit: int, sort: str) -> list[dict[str, Any]]:
    if sort == "hits":
        chosen = stats.sections.most_common(limit)
    else:
        keys = {
            "errors": lambda item: (-stats.section_errors[item[0]], -item[1], item[0]),
            "error_share": lambda item: (-stats.section_errors[item[0]] / item[1], -item[1], item[0]),
            "section": lambda item: (item[0],),
        }
        if sort not in keys:
            raise ValueError(f"unknown section sort {sort!r}; choose one of {', '.join(SECTION_SORTS)}")
        chosen = sorted(stats.sections.items(), key=keys[sort])[:limit]
    return [
        {
            "section": section,
            "hits": hits,
            "errors": stats.section_errors[section],
            "error_share": round(stats.section_errors[section] / hits, 4) if hits else 0.0,
        }
        for section, hits in chosen
    ]


def insights(
    windows: Windows, window_seconds: int, now: int, section_limit: int = 10, section_sort: str = "hits"
) -> dict[str, Any]:
    """Summarize the seconds ``s`` with ``now - window_seconds < s <= now``.

    Args:
        windows: the per-second buckets.
        window_seconds: length of the window.
        now: the window's last second (wall clock live, or the logs' own time when replaying).
        section_limit: how many top sections to list.
        section_sort: which sections, in which order: one of :data:`SECTION_SORTS`.
    """
    stats = windows.summary(now - window_seconds, now)
    sections = _sections(stats, section_limit, section_sort)
    return {
        "window_seconds": window_seconds,
        "start": iso_second(now - window_seconds),
        "end": iso_second(now),
        "lines": stats.lines,
        "hits": stats.hits,
        "rate": round(stats.hits / window_seconds, 3) if window_seconds else 0.0,
        "bytes": stats.bytes,
        "errors": {"4xx": stats.errors_4xx, "5xx": stats.errors_5xx},
        "clients": stats.clients.count(),
        "users": stats.users.count(),
        "sections": sections,
        "status": {
            str(code) if code != OTHER_STATUS else OTHER: n
            for code, n in sorted(stats.status.items(), key=lambda item: (item[0] == OTHER_STATUS, item[0]))
        },
        "methods": dict(stats.methods.most_common()),
        "crud": crud(stats.methods),
        "levels": dict(stats.levels.most_common()),
        "mean_duration_seconds": (
            round(stats.duration_sum / stats.duration_count, 6) if stats.duration_count else None
        ),
        "late_lines": windows.late,
        "future_lines": windows.dropped["future"],
    }
