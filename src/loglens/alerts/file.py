"""The file notifier: :class:`~loglens.alerts.notify.JsonLinesSink` behind a queue, like every notifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loglens.alerts.delivery import Notifier
from loglens.alerts.engine import AlertEvent
from loglens.alerts.notify import JsonLinesSink


class FileNotifier(Notifier):
    """Appends each event as one JSON line to ``path`` (opened at once: a ConfigError if it cannot be)."""

    kind = "file"

    def __init__(self, path: Path, **delivery: Any) -> None:
        super().__init__(**delivery)
        self.sink = JsonLinesSink(path)

    def describe(self) -> str:
        """``file alerts.jsonl``."""
        return f"file {self.sink.path}"

    def deliver(self, event: AlertEvent) -> None:
        """Write and flush the line."""
        self.sink.send(event)

    def release(self) -> None:
        """Close the file."""
        self.sink.close()
