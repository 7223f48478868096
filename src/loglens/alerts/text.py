"""The words of a notification for people: the headline (a subject, Slack's first line) and the details."""

from __future__ import annotations

from loglens.alerts.engine import AlertEvent
from loglens.alerts.rules import format_time


def label_text(labels: dict[str, str]) -> str:
    """``severity=page source=web``: the labels but ``alertname``, sorted."""
    return " ".join(f"{name}={value}" for name, value in sorted(labels.items()) if name != "alertname")


def headline(event: AlertEvent) -> str:
    """``[FIRING] server_errors severity=page source=web``, or ``[RESOLVED] ...`` on recovery."""
    state = "FIRING" if event.kind == "fire" else "RESOLVED"
    return f"[{state}] {event.rule.name} {label_text(event.labels)}".rstrip()


def value_text(event: AlertEvent) -> str:
    """``2.4 (fires at >= 2 over 60 s)``; ``none (...)`` when the rule has no value (a ratio over nothing)."""
    rule = event.rule
    shown = "none" if event.value is None else f"{round(event.value, 3):g}"
    return f"{shown} (fires at {rule.op} {rule.threshold:g} over {rule.window_seconds} s)"


def details(event: AlertEvent) -> list[str]:
    """The message, the value, the times (RFC 3339), the labels and the annotations, one per line."""
    lines = [event.message, "", f"Value: {value_text(event)}", f"Fired: {format_time(event.incident.start)}"]
    if event.kind == "recover":
        lines.append(f"Resolved: {format_time(event.at)}")
    lines += ["", "Labels:", *(f"  {name} = {value}" for name, value in sorted(event.labels.items()))]
    if event.incident.annotations:
        annotations = sorted(event.incident.annotations.items())
        lines += ["", "Annotations:", *(f"  {name} = {value}" for name, value in annotations)]
    return lines
