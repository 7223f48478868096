"""A snapshot as lines of text: shared by the Textual panels and the ``--plain`` report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from loglens.aggregate.crud import shown
from loglens.alerts.engine import Incident
from loglens.alerts.rules import format_time, human_duration
from loglens.ui.console.monitor import Snapshot

_BARS = "▁▂▃▄▅▆▇█"


def human_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    step = 0
    while abs(count) >= 1024 and step < len(units) - 1:
        count /= 1024
        step += 1
    return f"{count:.0f} B" if step == 0 else f"{count:.1f} {units[step]}"


def clock_time(second: int) -> str:
    """``HH:MM:SS`` UTC."""
    return datetime.fromtimestamp(second, UTC).strftime("%H:%M:%S")


def header_line(snap: Snapshot) -> str:
    """When and over what the window is."""
    return f"{format_time(snap.now)} · last {snap.options.time_window}s"


def stats_line(snap: Snapshot) -> str:
    """Hits, rate, bytes, distinct users and clients, 4xx and 5xx of the window."""
    w = snap.window
    return (
        f"hits {w['hits']} · {w['rate']:.1f}/s · {human_bytes(w['bytes'])} · users {w['users']} · "
        f"clients {w['clients']} · 4xx {w['errors']['4xx']} · 5xx {w['errors']['5xx']}"
    )


def alert_line(snap: Snapshot) -> str:
    """The last alert message, or the current rate against the threshold when there was none."""
    if snap.alert_message:
        return snap.alert_message
    o = snap.options
    return f"No alert - hits = {snap.alert_value:.1f}/s over {o.alert_window}s (threshold {o.threshold:g})"


def graph_title(snap: Snapshot) -> str:
    """Caption of the hits/s graph."""
    peak = max(snap.rate_series, default=0)
    o = snap.options
    average = f"avg {snap.alert_value:.1f}"
    return f"hits/s, last {o.alert_window}s · {average} · peak {peak} · limit {o.threshold:g}"


def alert_name(rule: str, labels: dict[str, str]) -> str:
    """``rule`` or ``rule{source=web}``."""
    return rule + ("{" + ", ".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else "")


def incident_line(incident: Incident, now: int) -> str:
    """``start → end (duration) max rate`` for high traffic; other rules' incidents start with their
    name."""
    end = clock_time(incident.end) if incident.end is not None else "ongoing"
    span = f"{format_time(incident.start)} → {end}  {human_duration(incident.duration(now))}"
    if incident.rule == "high_traffic":
        return f"{span}  max {incident.max_value:.1f} hits/s"
    return f"{alert_name(incident.rule, incident.labels)}  {span}  max {incident.max_value:g}"


def active_line(snap: Snapshot) -> str:
    """The pending and firing alerts of the rules besides high traffic (its own line shows it), or ""."""
    shown = [
        f"{alert_name(a.rule, a.labels)} {a.state} since {clock_time(a.since)} ({a.value:g})"
        for a in snap.active
        if a.rule != "high_traffic"
    ]
    return "active: " + " · ".join(shown) if shown else ""


def anomaly_line(snap: Snapshot, limit: int = 3) -> str:
    """The newest anomalies of the rate detectors, ``anomalies: 5xx ↑7.7 zscore 01:30:02 ...``, or ""."""
    shown = [
        f"{a.series} {'↑' if a.score > 0 else '↓'}{abs(a.score):.1f} {a.detector} {clock_time(a.at)}"
        for a in snap.anomalies[:limit]
    ]
    return "anomalies: " + " · ".join(shown) if shown else ""


def shares(counts: dict[str, int], limit: int) -> list[tuple[str, int, float]]:
    """``(key, count, percent of all)`` of the ``limit`` biggest entries."""
    total = sum(counts.values())
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return [(key, count, 100 * count / total) for key, count in top]


def crud_shares(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    """``(operation, count, percent of all)`` of the operations a view shows; empty without requests."""
    total = sum(counts.values())
    return [(key, count, 100 * count / total) for key, count in shown(counts)] if total else []


def crud_compact(counts: dict[str, int]) -> str:
    """``C6% R92% U2% D0%``: each operation's initial and share (``O`` other), or empty without requests."""
    return " ".join(f"{key[0].upper()}{pct:.0f}%" for key, _, pct in crud_shares(counts))


def footer_line(snap: Snapshot) -> str:
    """Lines read, parse errors by reason, late lines, lag."""
    errors = sum(snap.parse_errors.values())
    reasons = ", ".join(f"{r} {n}" for r, n in snap.parse_errors.most_common())
    lag = human_bytes(snap.lag_bytes)
    if snap.lag_seconds is not None:
        lag += f", newest line {human_duration(snap.lag_seconds)} ago"
    parts = [f"lines {snap.lines}", f"parse errors {errors}" + (f" ({reasons})" if reasons else "")]
    if snap.late_lines:
        parts.append(f"too late {snap.late_lines}")
    parts.append(f"lag {lag}")
    if snap.alert_sink_errors:
        parts.append(f"alert log errors {snap.alert_sink_errors}")
    return " · ".join(parts)


def sparkline(values: Sequence[int], width: int) -> str:
    """``values`` as one row of block characters, at most ``width`` wide (each cell the max of its span)."""
    if not values:
        return ""
    cells = min(width, len(values))
    spans = [values[i * len(values) // cells : (i + 1) * len(values) // cells] for i in range(cells)]
    peaks = [max(span) for span in spans]
    top = max(peaks) or 1
    return "".join(_BARS[min(len(_BARS) - 1, value * len(_BARS) // (top + 1))] for value in peaks)


def plain_report(snap: Snapshot, width: int = 80) -> str:
    """The whole snapshot as plain text (``--plain``)."""
    w = snap.window
    lines = [
        f"== loglens watch · {header_line(snap)} ==",
        stats_line(snap),
        ("ALERT " if snap.firing else "") + alert_line(snap),
        *filter(None, [active_line(snap), anomaly_line(snap)]),
        graph_title(snap),
        sparkline(snap.rate_series, width),
    ]
    if w["sections"]:
        lines.append(f"{'section':<30} {'hits':>8} {'errors':>7} {'err%':>6}")
        lines += [
            f"{row['section'][:30]:<30} {row['hits']:>8} {row['errors']:>7} {100 * row['error_share']:>5.1f}%"
            for row in w["sections"]
        ]
    mixes = (
        ("status", shares(w["status"], 8)),
        ("methods", shares(w["methods"], 8)),
        ("crud", crud_shares(w["crud"])),
        ("levels", shares(w["levels"], 8)),
    )
    for title, rows in mixes:
        if rows:
            lines.append(f"{title}: " + ", ".join(f"{k} {n} ({pct:.1f}%)" for k, n, pct in rows))
    if snap.incidents:
        lines.append("incidents:")
        lines += [f"  {incident_line(i, snap.now)}" for i in snap.incidents]
    lines.append(footer_line(snap))
    return "\n".join(lines) + "\n"
