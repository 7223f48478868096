"""Render a replay as one JSON object or as the Prometheus exposition (the table is in report_table)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import orjson

from loglens.aggregate.crud import crud
from loglens.replay import ReplayResult


def _iso(ts: datetime | None) -> str | None:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z") if ts else None


def _status_classes(status: Counter[str]) -> dict[str, int]:
    classes: Counter[str] = Counter()
    for code, count in status.items():
        classes[f"{code[0]}xx" if code[:1].isdigit() else code] += count
    return dict(sorted(classes.items()))


def summarize(result: ReplayResult, section_limit: int = 10, top: int = 10) -> dict[str, Any]:
    """The replay as a JSON-ready mapping (the ``--output json`` document)."""
    summary, panels = result.summary, result.breakdown
    status: Counter[str] = Counter()
    for (_method, code), count in summary.requests.items():
        status[code] += int(count)
    methods = result.methods
    return {
        "files": result.files,
        "lines": summary.lines,
        "parsed": summary.parsed,
        "parse_errors": dict(sorted(summary.parse_errors.items())),
        "hits": summary.hits,
        "bytes": summary.response_bytes,
        "status": dict(sorted(status.items())),
        "status_classes": _status_classes(status),
        "methods": dict(methods.most_common()),
        "crud": crud(methods),
        "sections": [[s, int(n)] for s, n in summary.sections.most_common(section_limit)],
        "levels": dict(summary.levels.most_common()),
        "first_ts": _iso(summary.first_ts),
        "last_ts": _iso(summary.last_ts),
        "clients": [[c, int(n)] for c, n in panels.clients.most_common(top)],
        "not_found": [[p, int(n)] for p, n in panels.not_found.most_common(top)],
        "referrers": [[r, int(n)] for r, n in panels.referrers.most_common(top)],
        "browsers": dict(panels.browsers.most_common(top)),
        "bots": dict(panels.bots.most_common(top)),
        "hours": {f"{h:02d}": panels.hours[h] for h in range(24)},
        "elapsed_seconds": round(result.elapsed, 3),
        **({"metrics": _user_metrics(result)} if result.metrics is not None else {}),
    }


def _user_metrics(result: ReplayResult) -> list[dict[str, Any]]:
    from loglens.metrics.exposition import to_json

    assert result.metrics is not None
    return to_json(result.metrics)


def to_json(result: ReplayResult, section_limit: int = 10, top: int = 10) -> str:
    """The replay as one JSON object."""
    return orjson.dumps(summarize(result, section_limit, top)).decode()


def to_prometheus(result: ReplayResult) -> str:
    """The ``loglens_*`` metrics a running loglens would expose after reading the same inputs."""
    from prometheus_client import CollectorRegistry, generate_latest  # only this output needs them

    from loglens.exposition.totals import TotalsCollector

    if result.totals is None:
        raise ValueError("replay() was run without limits, so it kept no per-source totals")
    registry = CollectorRegistry()
    registry.register(TotalsCollector(result.totals))
    if result.metrics is not None:
        from loglens.metrics.exposition import UserMetricsCollector

        registry.register(UserMetricsCollector(result.metrics, scrape=False))
    return generate_latest(registry).decode()
