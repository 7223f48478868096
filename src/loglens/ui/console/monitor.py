"""The data behind the console: a :class:`Snapshot` per refresh, read from a runtime or a running agent.

Both views (the Textual app and ``--plain``) call ``refresh()`` every refresh and render the
:class:`Snapshot` it returns; they never touch state themselves. :class:`Monitor` reads the runtime of
this process through its query API; :class:`RemoteMonitor` reads a running ``loglens run`` over HTTP.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import httpx

from loglens.alerts.engine import Incident
from loglens.anomaly.rates import Anomaly
from loglens.errors import SourceError
from loglens.query import ActiveAlert, AlertState
from loglens.runtime import Runtime

#: Longest a refresh keeps reading before it shows what it has (a replay shows progress).
READ_BUDGET_SECONDS = 0.5


@dataclass(frozen=True)
class WatchOptions:
    """The knobs of the console (the alert ones shape the runtime's rule, or come from the agent)."""

    time_window: int = 10
    alert_window: int = 120
    threshold: float = 10.0
    section_limit: int = 8
    incident_limit: int = 3


@dataclass(frozen=True)
class Snapshot:
    """Everything one refresh shows."""

    now: int
    options: WatchOptions
    window: dict[str, Any]  # :func:`loglens.aggregate.insights.insights` of the last ``time_window`` seconds
    rate_series: list[int]  # hits per second over the alert window, oldest first
    alert_value: float  # the high-traffic rate at ``now``
    firing: bool
    alert_message: str | None  # the last fire or recover message
    incidents: list[Incident]  # newest first
    active: list[ActiveAlert]  # every rule's pending and firing alerts
    lines: int
    parse_errors: Counter[str]
    late_lines: int
    lag_bytes: int
    lag_seconds: float | None  # now minus the newest event second, None before any line
    alert_sink_errors: int
    anomalies: list[Anomaly] = field(default_factory=list)  # newest first


class Feed(Protocol):
    """What the console views read."""

    def refresh(self, section_sort: str = "hits") -> Snapshot:
        """Bring the data up to date and return it."""
        ...

    def snapshot(self, section_sort: str = "hits") -> Snapshot:
        """The current data without reading anything new (a view changed its sort)."""
        ...


def _alert_fields(options: WatchOptions, alerts: AlertState) -> tuple[WatchOptions, float, bool]:
    """The options as the high-traffic rule really has them, its value, and whether it fires."""
    rule = next((r for r in alerts.rules if r.name == "high_traffic"), None)
    if rule is None:
        return options, 0.0, False
    shown = replace(options, alert_window=rule.window_seconds, threshold=rule.threshold)
    return shown, rule.value, rule.firing


class Monitor:
    """The console's view of this process's runtime.

    When the runtime's loop is not running (tests, a frozen clock), each refresh polls it first.
    """

    def __init__(self, runtime: Runtime, options: WatchOptions) -> None:
        self.runtime = runtime
        self.options = options
        self._lock = threading.Lock()

    def refresh(self, section_sort: str = "hits") -> Snapshot:
        """Read what is new (unless the runtime's loop does), evaluate alerts, return the snapshot."""
        with self._lock:
            if not self.runtime.running:
                deadline = time.monotonic() + READ_BUDGET_SECONDS
                while self.runtime.poll_once() and time.monotonic() < deadline:
                    pass
            return self._snapshot(section_sort)

    def snapshot(self, section_sort: str = "hits") -> Snapshot:
        """The current state without reading."""
        with self._lock:
            return self._snapshot(section_sort)

    def _snapshot(self, section_sort: str) -> Snapshot:
        query = self.runtime.query
        now = int(query.now())
        alerts = query.alerts()
        options, value, firing = _alert_fields(self.options, alerts)
        lines, errors = query.lines()
        mark = query.watermark
        return Snapshot(
            now=now,
            options=options,
            window=query.insights(options.time_window, options.section_limit, section_sort, now),
            rate_series=[hits for _, hits in query.hits_series(options.alert_window, now)],
            alert_value=value,
            firing=firing,
            alert_message=alerts.last_message,
            incidents=alerts.incidents,
            active=alerts.active,
            lines=lines,
            parse_errors=errors,
            late_lines=query.late_lines,
            lag_bytes=sum(source.lag_bytes for source in query.sources()),
            lag_seconds=None if mark is None else max(0.0, query.now() - mark),
            alert_sink_errors=alerts.sink_errors,
            anomalies=query.anomalies().anomalies,
        )


class RemoteMonitor:
    """The console's view of a running ``loglens run``, read from its HTTP API.

    Its time is the agent's event time (see :meth:`_end`): live, that is the wall clock; on logs read
    from their start, the windows end at the newest line, as ``watch --from-start`` shows them.

    Args:
        url: base URL of the agent, e.g. ``http://127.0.0.1:9911``.
        options: the time window and sections shown (the alert comes from the agent's rule).
        client: an HTTP client (tests pass one bound to an app).
    """

    def __init__(self, url: str, options: WatchOptions, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.options = options
        self.client = client or httpx.Client(timeout=5.0)
        self._last: Snapshot | None = None
        self._sort = "hits"
        self._mark: int | None = None  # the agent's newest event second, and when it was last seen to move
        self._since = 0.0

    def _end(self, latest: int | None) -> int | None:
        """The console's "now" in the agent's event time, as ``watch --from-start`` keeps it locally:
        the newest event second, running on with the wall clock while no newer line comes."""
        if latest is None:
            return None
        wall = time.time()
        if latest != self._mark:
            self._mark, self._since = latest, wall
        return int(latest + (wall - self._since))

    def _get(self, path: str, **params: Any) -> Any:
        try:
            response = self.client.get(f"{self.url}{path}", params=params)
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise SourceError(f"{self.url}{path}: HTTP {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot reach loglens at {self.url}: {exc}") from None
        return response.json()

    def refresh(self, section_sort: str = "hits") -> Snapshot:
        """Ask the agent for insights, the rate series, alerts and status."""
        opts = self.options
        alerts = self._get("/api/alerts")
        rule = next((r for r in alerts["rules"] if r["name"] == "high_traffic"), None)
        if rule is not None:
            opts = replace(opts, alert_window=rule["window_seconds"], threshold=rule["threshold"])
        end = self._end(self._get("/api/series", window=1)["latest"])
        at = {"end": end} if end is not None else {}
        window = self._get(
            "/api/insights", window=opts.time_window, sections=opts.section_limit, sort=section_sort, **at
        )
        series = self._get("/api/series", window=opts.alert_window, **at)
        status = self._get("/api/status")
        now = int(datetime.fromisoformat(window["end"].replace("Z", "+00:00")).timestamp())
        errors: Counter[str] = Counter()
        for source in status["sources"]:
            errors.update(source.get("parse_error_reasons", {}))
        latest = series.get("latest")
        snap = Snapshot(
            now=now,
            options=opts,
            window=window,
            rate_series=list(series["hits"]),
            alert_value=float(rule["value"]) if rule else 0.0,
            firing=bool(rule and rule["firing"]),
            alert_message=alerts["last_message"],
            incidents=[
                Incident(i["rule"], i["start_epoch"], i["max_value"], i["end_epoch"], i.get("labels", {}))
                for i in alerts["incidents"]
            ],
            active=[
                ActiveAlert(a["rule"], a["state"], a["labels"], a["since_epoch"], a["value"])
                for a in alerts.get("active", [])
            ],
            lines=sum(source["lines"] for source in status["sources"]),
            parse_errors=errors,
            late_lines=int(window.get("late_lines", 0)),
            lag_bytes=sum(source["lag_bytes"] for source in status["sources"]),
            lag_seconds=None if latest is None else max(0.0, now - latest),
            alert_sink_errors=int(alerts["sink_errors"]),
            anomalies=[_anomaly(a) for a in self._get("/api/anomalies")["anomalies"]],
        )
        self._last, self._sort = snap, section_sort
        return snap

    def snapshot(self, section_sort: str = "hits") -> Snapshot:
        """The last snapshot, asked again when the sort changed."""
        if self._last is None or section_sort != self._sort:
            return self.refresh(section_sort)
        return self._last


def _anomaly(shown: dict[str, Any]) -> Anomaly:
    """An anomaly of ``/api/anomalies``."""
    return Anomaly(
        shown["detector"], shown["series"], shown["at_epoch"], shown["score"], shown["baseline"],
        shown["observed"], shown["peak"], shown["end_epoch"], shown["example"],
    )  # fmt: skip
