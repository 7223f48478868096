"""The readable replay report, and the progress bar shown while reading large inputs (rich)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.columns import Columns
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from loglens.replay import ReplayResult
from loglens.report import summarize

PROGRESS_MIN_BYTES = 32 * 1024 * 1024


@contextmanager
def progress_bar(names: tuple[str, ...]) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on stderr for large inputs, when stderr is a terminal."""
    sizes = [os.path.getsize(n) for n in names if n != "-" and os.path.isfile(n)]
    if not sys.stderr.isatty() or sum(sizes) < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("read", total=sum(sizes))
        yield lambda done: bar.update(task, completed=done)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _panel(title: str, rows: list[tuple[str, int]], total: int, key: str = "value") -> Table:
    table = Table(
        title=title, title_justify="left", title_style="bold", expand=False, show_edge=False, pad_edge=False
    )
    table.add_column(key, overflow="ellipsis", no_wrap=True, max_width=48)
    table.add_column("hits", justify="right")
    table.add_column("%", justify="right")
    for name, count in rows:
        table.add_row(str(name), f"{count:,}", f"{100 * count / total:.1f}" if total else "-")
    return table


def print_table(
    result: ReplayResult, section_limit: int = 10, top: int = 10, console: Console | None = None
) -> None:
    """Print the readable report."""
    console = console or Console()
    doc = summarize(result, section_limit, top)
    rate = doc["lines"] / result.elapsed if result.elapsed > 0 else 0.0
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("files", ", ".join(doc["files"]))
    overview.add_row(
        "lines", f"{doc['lines']:,}  ({doc['parsed']:,} parsed, {doc['lines'] - doc['parsed']:,} bad)"
    )
    overview.add_row("hits", f"{doc['hits']:,}")
    overview.add_row("bytes", _human_bytes(doc["bytes"]))
    overview.add_row("time span", f"{doc['first_ts'] or '-'}  ..  {doc['last_ts'] or '-'}")
    overview.add_row("read in", f"{result.elapsed:.2f} s  ({rate:,.0f} lines/s)")
    console.print(overview)
    hits = doc["hits"]
    panels: list[Table] = []
    if hits:
        panels += [
            _panel("status classes", list(doc["status_classes"].items()), hits, "class"),
            _panel("status codes", list(doc["status"].items()), hits, "code"),
            _panel("methods", list(doc["methods"].items()), hits, "method"),
            _panel("top sections", [tuple(x) for x in doc["sections"]], hits, "section"),
            _panel("top clients", [tuple(x) for x in doc["clients"]], hits, "client"),
            _panel("top not found (404)", [tuple(x) for x in doc["not_found"]], hits, "path"),
            _panel("top referrers", [tuple(x) for x in doc["referrers"]], hits, "referrer"),
            _panel("browsers", list(doc["browsers"].items()), hits, "family"),
            _panel("bots", list(doc["bots"].items()), hits, "family"),
            _panel("hits per hour (UTC)", [(h, n) for h, n in doc["hours"].items() if n], hits, "hour"),
        ]
    if doc["levels"]:
        panels.append(_panel("levels", list(doc["levels"].items()), sum(doc["levels"].values()), "level"))
    if doc["parse_errors"]:
        panels.append(_panel("parse errors", list(doc["parse_errors"].items()), doc["lines"], "reason"))
    console.print()
    console.print(Columns(panels, padding=(1, 4)))
