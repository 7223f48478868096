"""Helpers for the notifier tests: alert events from a plain rule, and a real HTTP receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from loglens.alerts.engine import AlertEvent, Incident
from loglens.alerts.rules import HitRateRule, Rule

#: 2023-11-14T22:13:20Z
NOW = 1_700_000_000


def rule(threshold: float = 2, window: int = 60, **labels: str) -> Rule:
    """The high-traffic rule, with ``labels`` as the rule's labels."""
    return HitRateRule(threshold, window, labels=labels)


def events(
    made: Rule,
    start: int = NOW,
    end: int = NOW + 30,
    value: float = 2.5,
    recovered: float | None = 0.5,
    **group: str,
) -> tuple[AlertEvent, AlertEvent]:
    """The fire and recover events of one incident of ``made`` for the group ``group``; ``recovered``
    is the value at recovery (None: no value)."""
    annotations = {"summary": f"traffic on {group.get('source', 'all')}"}
    incident = Incident(made.name, start, value, labels=group, annotations=annotations)
    fire = AlertEvent("fire", made, start, value, made.fire_message(value, start), incident)
    ended = Incident(made.name, start, value, end=end, labels=group, annotations=annotations)
    recover = AlertEvent("recover", made, end, recovered, made.recover_message(recovered, end), ended)
    return fire, recover


def event(kind: Literal["fire", "recover"], n: int) -> AlertEvent:
    """Event number ``n`` of a series told apart by the group label ``n``."""
    fire, recover = events(rule(), NOW + n, NOW + n, n=str(n))
    return fire if kind == "fire" else recover


class Receiver:
    """A webhook receiver: an HTTP server on ``port`` that keeps each request's path and JSON body.

    It answers ``status`` (200 by default); :meth:`stop` and :meth:`start` take it down and back on
    the same port.
    """

    def __init__(self, port: int, status: int = 200) -> None:
        self.port = port
        self.status = status
        self.received: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies(self, path: str | None = None) -> list[Any]:
        with self.lock:
            return [body for seen, body in self.received if path is None or seen == path]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with receiver.lock:
                    if receiver.status < 300:
                        receiver.received.append((self.path, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
