"""Alert sinks: where fire and recover events are delivered. One class per destination."""

from __future__ import annotations

from pathlib import Path

import orjson

from loglens.alerts.engine import AlertEvent
from loglens.errors import ConfigError


class JsonLinesSink:
    """Appends each event as one JSON object per line to a file (``--alert-log``).

    The file is opened once, in append mode, and flushed after every event so a reader (``tail -f``,
    a log shipper) sees it at once.

    Raises:
        ConfigError: the file cannot be opened for appending.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle = path.open("ab")
        except OSError as exc:
            raise ConfigError(f"cannot open alert log {path}: {exc.strerror}") from None

    def send(self, event: AlertEvent) -> None:
        """Write one line for ``event``."""
        self._handle.write(orjson.dumps(event.to_dict()) + b"\n")
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()
