"""The web page's data: one JSON-ready document read through the query API, and the deltas between two.

The live page gets a whole document first, then, every second, a JSON merge patch (RFC 7386) of what
changed. Rows are keyed (a panel is ``{key: [hits, bytes, mean seconds]}``, a chart ``{second: [hits,
4xx, 5xx]}``), so a patch carries only the rows and seconds that changed, and nulls for those gone.
The static report is the same document, inlined in the page.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from loglens import __version__
from loglens.aggregate.insights import iso_second
from loglens.forms import anomaly_dict, incident_dict
from loglens.query import Query

if TYPE_CHECKING:
    from loglens.aggregate.visitors import RangeSummary

#: The rate charts: name, seconds shown, seconds per point.
CHARTS: tuple[tuple[str, int, int], ...] = (("5m", 300, 1), ("15m", 900, 10), ("60m", 3600, 60))


def document(
    query: Query,
    rows: int,
    range_seconds: int | None = None,
    source: str | None = None,
    mode: str = "live",
    files: list[str] | None = None,
    elapsed: float | None = None,
) -> dict[str, Any]:
    """Everything the page shows.

    Args:
        query: the runtime's state.
        rows: rows per panel, at most.
        range_seconds: the time range of the summary and the goaccess panels (None: everything since
            the start).
        source: the source whose totals the summary and the goaccess panels show (None: every source).
        mode: ``live`` (served) or ``report`` (a static file).
        files: the report's inputs.
        elapsed: seconds the report took.
    """
    keep = query.keep_seconds
    windowed = range_seconds is not None and keep > 0
    end = int(query.now())
    meta = {
        "version": __version__,
        "mode": mode,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(query.wall())),
        "now": iso_second(end),
        "keep_seconds": keep,
        "range_seconds": range_seconds if windowed else None,
        "source": source,
        "sources": query.source_names(),
        "rows": rows,
        "files": files or [],
        "elapsed_seconds": round(elapsed, 3) if elapsed is not None else None,
        "vhosts": query.vhosts_logged(),
    }
    return {
        "meta": meta,
        "summary": _summary(query, source, range_seconds if windowed else None, rows, end),
        "charts": _charts(query, end, source) if keep else None,
        "panels": panels_of(query, rows, source, range_seconds if windowed else None),
        "alerts": _alerts(query, rows) if keep else None,
        "anomalies": _anomalies(query, rows) if keep else None,
        "patterns": _patterns(query, rows),
        "sources": _sources(query),
    }


def _status_classes(status: dict[str, int]) -> dict[str, int]:
    classes: dict[str, int] = {}
    for code, count in status.items():
        name = f"{code[0]}xx" if code[:1].isdigit() else code
        classes[name] = classes.get(name, 0) + count
    return dict(sorted(classes.items()))


def summary_of(query: Query, source: str | None, rows: int) -> dict[str, Any]:
    """The summary since the start, from the totals (what ``replay --output json`` reports)."""
    summary = query.summary(source)
    status: dict[str, int] = {}
    methods: dict[str, int] = {}
    for (method, code), count in summary.requests.items():
        status[code] = status.get(code, 0) + int(count)
        methods[method] = methods.get(method, 0) + int(count)
    durations = summary.durations
    return {
        "source": source,
        "lines": summary.lines,
        "parsed": summary.parsed,
        "parse_errors": dict(summary.parse_errors),
        "hits": summary.hits,
        "bytes": summary.response_bytes,
        "errors": {"4xx": _class_count(status, "4"), "5xx": _class_count(status, "5")},
        "status": dict(sorted(status.items())),
        "status_classes": _status_classes(status),
        "methods": methods,
        "sections": {s: [int(n), None, None] for s, n in summary.sections.most_common(rows)},
        "levels": dict(summary.levels),
        "mean_duration_seconds": round(durations.total / durations.count, 6) if durations.count else None,
        "first_ts": summary.first_ts.isoformat() if summary.first_ts else None,
        "last_ts": summary.last_ts.isoformat() if summary.last_ts else None,
    }


def _class_count(status: dict[str, int], first: str) -> int:
    return sum(count for code, count in status.items() if code.startswith(first))


def _summary(query: Query, source: str | None, window: int | None, rows: int, end: int) -> dict[str, Any]:
    """The summary of ``source`` (none: every source) over the last ``window`` seconds (none: since the
    start): from the totals, the windows, or, for one source over a range, the panels' minutes."""
    if window is None:
        return summary_of(query, source, rows)
    if source is not None:
        of_source = query.range_summary(source, window)
        if of_source is not None:
            return _source_range(query, source, of_source, window, rows, end)
    return _windowed(query, window, rows, end)


def _source_range(
    query: Query, source: str, seen: RangeSummary, window: int, rows: int, end: int
) -> dict[str, Any]:
    """The summary of one source over the last ``window`` seconds, by whole minutes, as
    :func:`_windowed` gives it for every source."""
    status = {str(code): row[0] for code, row in sorted(seen.status.items())}
    hits = sum(row[0] for row in seen.status.values())
    timed = sum(row[3] for row in seen.status.values())
    served = sum(row[2] for row in seen.status.values())
    minutes = math.ceil(window / 60)
    start = (end // 60 - minutes + 1) * 60
    busiest = sorted(seen.sections.items(), key=lambda item: (-item[1][0], item[0]))[:rows]
    return {
        "source": source,
        "lines": seen.lines,
        "parsed": None,
        "parse_errors": dict(query.summary(source).parse_errors),
        "all_lines": seen.lines,
        "hits": hits,
        "rate": round(hits / (end - start + 1), 3),
        "bytes": sum(row[1] for row in seen.status.values()),
        "errors": {"4xx": _class_count(status, "4"), "5xx": _class_count(status, "5")},
        "clients": seen.clients,
        "users": seen.users,
        "status": status,
        "status_classes": _status_classes(status),
        "methods": dict(sorted(seen.methods.items(), key=lambda item: (-item[1], item[0]))),
        "sections": {s: [n, e, round(e / n, 4) if n else 0.0] for s, (n, e) in busiest},
        "levels": dict(sorted(seen.levels.items(), key=lambda item: (-item[1], item[0]))),
        "mean_duration_seconds": round(served / timed, 6) if timed else None,
        "first_ts": iso_second(start),
        "last_ts": iso_second(end),
    }


def _windowed(query: Query, window: int, rows: int, end: int) -> dict[str, Any]:
    """The summary of the last ``window`` seconds, from the windows (what ``/api/insights`` serves)."""
    seen = query.insights(min(window, query.keep_seconds), rows, "hits", end)
    lines, errors = query.lines()
    return {
        "source": None,
        "lines": seen["lines"],
        "parsed": None,
        "parse_errors": dict(errors),
        "all_lines": lines,
        "hits": seen["hits"],
        "rate": seen["rate"],
        "bytes": seen["bytes"],
        "errors": seen["errors"],
        "clients": seen["clients"],
        "users": seen["users"],
        "status": seen["status"],
        "status_classes": _status_classes(seen["status"]),
        "methods": seen["methods"],
        "sections": {s["section"]: [s["hits"], s["errors"], s["error_share"]] for s in seen["sections"]},
        "levels": seen["levels"],
        "mean_duration_seconds": seen["mean_duration_seconds"],
        "first_ts": seen["start"],
        "last_ts": seen["end"],
    }


def _charts(query: Query, end: int, source: str | None) -> dict[str, Any]:
    """Hits, 4xx and 5xx per point of each chart, keyed by the point's first second."""
    out: dict[str, Any] = {}
    for name, seconds, step in CHARTS:
        points = query.rates(seconds, step, end, source)
        out[name] = {"step": step, "points": {str(sec): [h, e4, e5] for sec, h, e4, e5 in points}}
    return out


def panels_of(
    query: Query, rows: int, source: str | None = None, range_seconds: int | None = None
) -> dict[str, Any] | None:
    """The goaccess panels of ``source`` over ``range_seconds``, each ``{key: [hits, bytes, mean seconds]}``
    (days with their visitors too); None when they are not kept."""
    panels = query.web_panels(rows, source, range_seconds)
    if panels is None:
        return None
    out: dict[str, Any] = {}
    for name, listed in panels.items():
        out[name] = {
            row["key"]: [
                row["hits"],
                row["bytes"],
                row["mean_seconds"],
                *([row["visitors"]] if "visitors" in row else []),
            ]
            for row in listed
        }
    return out


def _alerts(query: Query, rows: int) -> dict[str, Any]:
    state = query.alerts()
    now = query.now()
    return {
        "rules": {
            rule.name: {
                "kind": rule.kind,
                "op": rule.op,
                "threshold": rule.threshold,
                "window_seconds": rule.window_seconds,
                "value": round(rule.value, 3),
                "firing": rule.firing,
                "fired_total": rule.fired_total,
            }
            for rule in state.rules
        },
        "active": [
            {
                "rule": a.rule,
                "state": a.state,
                "labels": a.labels,
                "since": iso_second(a.since),
                "value": round(a.value, 3),
            }
            for a in state.active
        ],
        "history": [incident_dict(incident, now) for incident in state.history[:rows]],
    }


def _anomalies(query: Query, rows: int) -> dict[str, Any]:
    state = query.anomalies()
    return {"enabled": state.enabled, "items": [anomaly_dict(a) for a in state.anomalies[:rows]]}


def _patterns(query: Query, rows: int) -> dict[str, Any]:
    mined = query.patterns()
    return {
        "enabled": mined is not None,
        "total": len(mined or []),
        "templates": [
            [t.template, t.count, iso_second(t.first_seen), t.example] for t in (mined or [])[:rows]
        ],
    }


def _sources(query: Query) -> dict[str, Any]:
    lines: dict[str, tuple[int, int]] = {}
    with query.totals.lock:
        for name, counters in query.totals.sources.items():
            lines[name] = (counters.lines, sum(counters.parse_errors.values()))
    out: dict[str, Any] = {}
    for status in query.sources():
        read, bad = lines.get(status.name, (0, 0))
        out[status.name] = {
            "lines": read,
            "parse_errors": bad,
            "lag_bytes": status.lag_bytes,
            "lines_per_second": round(status.lines_per_second, 3),
            "rotations": status.rotations,
            "truncations": status.truncations,
            "errors": sum(status.errors.values()),
            "healthy": status.healthy,
        }
    return out


def merge_patch(old: Any, new: Any) -> Any:
    """The JSON merge patch (RFC 7386) that turns ``old`` into ``new`` (``{}``: nothing changed).

    A value that is null in ``new`` is sent as is; applied, it deletes its key, which the page reads
    the same as null.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = (
                merge_patch(old[key], value)
                if isinstance(value, dict) and isinstance(old[key], dict)
                else value
            )
    return patch
