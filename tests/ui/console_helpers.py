"""The console over a real file, as ``loglens watch`` builds it, with a frozen clock."""

from __future__ import annotations

from collections.abc import Sequence

from loglens.alerts.engine import AlertSink
from loglens.clock import Clock
from loglens.config import load_settings
from loglens.sources.file_tail import FileFollower
from loglens.ui.console.command import watch_runtime
from loglens.ui.console.monitor import Monitor, WatchOptions


def watch_monitor(
    follower: FileFollower,
    options: WatchOptions,
    clock: Clock,
    replay: bool = False,
    sinks: Sequence[AlertSink] = (),
    lateness_seconds: float | None = None,
) -> Monitor:
    """A :class:`Monitor` over ``watch``'s runtime (not started: each refresh polls)."""
    settings = load_settings(
        alert={"threshold": options.threshold, "window_seconds": options.alert_window,
               "incident_limit": options.incident_limit},
        limits={"lateness_seconds": lateness_seconds} if lateness_seconds is not None else None,
    )  # fmt: skip
    runtime = watch_runtime(settings, [follower], clock=clock, event_time=replay, alert_sinks=sinks)
    return Monitor(runtime, options)
