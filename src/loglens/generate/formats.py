"""Rendering drawn fields as log lines, one list of strings per batch.

Timestamps repeat within a second, so each distinct second is formatted once per batch and shared.
Everything is UTC. The shapes are the ones ``loglens.parsing`` reads:

- ``common``:   ``127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123``
- ``combined``: common + `` "referer" "agent"`` (+ `` 0.123`` request seconds with durations)
- ``iso``:      common with ``[2025-01-01T12:34:56.789Z]``
- ``json``:     one object per line (access or application record)
- ``level``:    ``ERROR 2025-06-15T04:00:32.123Z message``, or another level-log shape (``LEVEL_STYLES``)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import orjson

from loglens.generate.content import Catalog
from loglens.generate.messages import LEVELS, MessageBook
from loglens.generate.sampling import AccessFields, AppFields
from loglens.generate.vocabulary import METHODS, PROTOCOLS

ACCESS_FORMATS: tuple[str, ...] = ("common", "combined", "iso", "json")
FORMATS: tuple[str, ...] = (*ACCESS_FORMATS, "level")
#: Shapes of ``level`` lines; ``iso`` is ``LEVEL ISO-TIME message``, the others mimic real systems.
LEVEL_STYLES: tuple[str, ...] = ("iso", "log4j", "apache", "hdfs", "spark")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MILLIS: tuple[str, ...] = tuple(f"{i:03d}" for i in range(1000))
_SHORT_LEVELS = ("INFO", "WARN", "ERROR")
_APACHE_LEVELS = ("info", "warn", "error")
_THREADS = ("main", "worker-1", "worker-2", "http-nio-8080-exec-3", "scheduler-1")


def _clf(t: time.struct_time) -> str:
    day = f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}"
    return f"{day}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def _iso(t: time.struct_time) -> str:
    return f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."


def _log4j(t: time.struct_time) -> str:
    return f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d},"


def _apache(t: time.struct_time) -> str:
    return (
        f"{WEEKDAYS[t.tm_wday]} {MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {t.tm_year}"
    )


def _hdfs(t: time.struct_time) -> str:
    return f"{t.tm_year % 100:02d}{t.tm_mon:02d}{t.tm_mday:02d} {t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}"


def _spark(t: time.struct_time) -> str:
    return (
        f"{t.tm_year % 100:02d}/{t.tm_mon:02d}/{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    )


def per_second(times_ms: np.ndarray, fmt: Callable[[time.struct_time], str]) -> list[str]:
    """Format each line's second with ``fmt``, once per run of equal seconds (times come in order)."""
    seconds = times_ms // 1000
    starts = np.flatnonzero(np.concatenate([[True], seconds[1:] != seconds[:-1]]))
    texts = np.array([fmt(time.gmtime(s)) for s in seconds[starts].tolist()], dtype=object)
    return np.repeat(texts, np.diff(np.append(starts, len(seconds)))).tolist()


def with_millis(times_ms: np.ndarray, fmt: Callable[[time.struct_time], str], tail: str = "") -> list[str]:
    """Format each time as ``fmt(second) + milliseconds + tail``."""
    heads = per_second(times_ms, fmt)
    return [h + MILLIS[m] + tail for h, m in zip(heads, (times_ms % 1000).tolist(), strict=True)]


def iso_time(epoch: float) -> str:
    """Format an epoch time as ISO-8601 UTC with milliseconds and ``Z``."""
    return with_millis(np.array([round(epoch * 1000)]), _iso, "Z")[0]


class AccessRenderer:
    """Renders access fields as ``common``, ``combined``, ``iso`` or ``json`` lines."""

    def __init__(self, catalog: Catalog, fmt: str, durations: bool = False) -> None:
        self.fmt = fmt
        self.durations = durations
        self._clients = np.array(catalog.clients, dtype=object)
        self._users = np.array(["-", *catalog.users], dtype=object)
        self._paths = np.array(catalog.paths, dtype=object)
        self._agents = np.array(catalog.agents, dtype=object)
        self._referers = np.array(catalog.referers, dtype=object)
        self._methods = np.array(METHODS, dtype=object)
        self._protocols = np.array(PROTOCOLS, dtype=object)

    def render(self, f: AccessFields, times_ms: np.ndarray) -> list[str]:
        """Return one line per element of ``f``; ``times_ms`` are epoch milliseconds."""
        if self.fmt == "json":
            return self._json(f, times_ms)
        stamps = with_millis(times_ms, _iso, "Z") if self.fmt == "iso" else per_second(times_ms, _clf)
        columns = (
            self._clients[f.client].tolist(),
            self._users[f.user + 1].tolist(),
            stamps,
            self._methods[f.method].tolist(),
            self._paths[f.path].tolist(),
            self._protocols[f.protocol].tolist(),
            f.status.tolist(),
            f.size.tolist(),
        )
        if self.fmt != "combined":
            return [
                f'{c} - {u} [{t}] "{m} {p} {pr}" {s} {"-" if b < 0 else b}'
                for c, u, t, m, p, pr, s, b in zip(*columns, strict=True)
            ]
        tail = self._referers[f.referer].tolist(), self._agents[f.agent].tolist()
        if self.durations:
            return [
                f'{c} - {u} [{t}] "{m} {p} {pr}" {s} {"-" if b < 0 else b} "{r}" "{a}" {d:.3f}'
                for c, u, t, m, p, pr, s, b, r, a, d in zip(*columns, *tail, f.duration.tolist(), strict=True)
            ]
        return [
            f'{c} - {u} [{t}] "{m} {p} {pr}" {s} {"-" if b < 0 else b} "{r}" "{a}"'
            for c, u, t, m, p, pr, s, b, r, a in zip(*columns, *tail, strict=True)
        ]

    def _json(self, f: AccessFields, times_ms: np.ndarray) -> list[str]:
        users = self._users[f.user + 1].tolist()
        durations = np.round(f.duration, 3).tolist() if self.durations else None
        lines = []
        for i, (ts, c, m, p, pr, s, b, r, a) in enumerate(
            zip(
                with_millis(times_ms, _iso, "Z"),
                self._clients[f.client].tolist(),
                self._methods[f.method].tolist(),
                self._paths[f.path].tolist(),
                self._protocols[f.protocol].tolist(),
                f.status.tolist(),
                f.size.tolist(),
                self._referers[f.referer].tolist(),
                self._agents[f.agent].tolist(),
                strict=True,
            )
        ):
            record: dict[str, object] = {"ts": ts, "client": c}
            if users[i] != "-":
                record["user"] = users[i]
            record.update(method=m, path=p, protocol=pr, status=s, bytes=max(b, 0), referer=r, agent=a)
            if durations is not None:
                record["duration"] = durations[i]
            lines.append(orjson.dumps(record).decode())
        return lines


class AppRenderer:
    """Renders application fields as ``level`` lines (in one of ``LEVEL_STYLES``) or ``json`` records."""

    def __init__(self, book: MessageBook, fmt: str, style: str = "iso") -> None:
        self.book = book
        self.fmt = fmt
        self.style = style
        self._services = np.array(book.services, dtype=object)

    def messages(self, f: AppFields) -> list[str]:
        """Return the message of each line."""
        book = self.book
        prefix = np.array(book.prefix, dtype=object)[f.template].tolist()
        suffix = np.array(book.suffix, dtype=object)[f.template].tolist()
        numbered = (book.high[f.template] > 0).tolist()
        return [
            f"{p}{n}{s}" if has else p + s
            for p, n, s, has in zip(prefix, f.number.tolist(), suffix, numbered, strict=True)
        ]

    def render(self, f: AppFields, times_ms: np.ndarray) -> list[str]:
        """Return one line per element of ``f``; ``times_ms`` are epoch milliseconds."""
        messages = self.messages(f)
        services = self._services[f.service].tolist()
        levels = f.level.tolist()
        if self.fmt == "json":
            return [
                orjson.dumps({"ts": ts, "service": s, "level": LEVELS[lv], "msg": m}).decode()
                for ts, s, lv, m in zip(
                    with_millis(times_ms, _iso, "Z"), services, levels, messages, strict=True
                )
            ]
        rows = zip(levels, services, messages, f.template.tolist(), strict=True)
        if self.style == "iso":
            stamps = with_millis(times_ms, _iso, "Z")
            return [f"{LEVELS[lv]} {t} {m}" for t, (lv, _, m, _) in zip(stamps, rows, strict=True)]
        if self.style == "log4j":
            stamps = with_millis(times_ms, _log4j)
            return [
                f"{t} - {_SHORT_LEVELS[lv]:<5} [{_THREADS[k % 5]}:{s}@{20 + k * 37 % 900}] - {m}"
                for t, (lv, s, m, k) in zip(stamps, rows, strict=True)
            ]
        if self.style == "apache":
            stamps = per_second(times_ms, _apache)
            return [
                f"[{t}] [{_APACHE_LEVELS[lv]}] {m}" for t, (lv, _, m, _) in zip(stamps, rows, strict=True)
            ]
        shape = _hdfs if self.style == "hdfs" else _spark
        stamps = per_second(times_ms, shape)
        if self.style == "hdfs":
            return [
                f"{t} {100 + k * 13 % 900} {_SHORT_LEVELS[lv]} app.{s}: {m}"
                for t, (lv, s, m, k) in zip(stamps, rows, strict=True)
            ]
        return [
            f"{t} {_SHORT_LEVELS[lv]} app.{s}: {m}" for t, (lv, s, m, _) in zip(stamps, rows, strict=True)
        ]
